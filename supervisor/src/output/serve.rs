//! `ctl logs NAME --output [-f] [-n N]`: a pod's or process's captured output, one
//! `OutputLine` frame per line — everything kept (or the last N lines), then, following,
//! each line as soon as the writer has put it in the file.

use podsup_wire::{CtlError, CtlErrorKind, CtlResponse, NodeKind};

use super::tail::Cursor;
use crate::ctl::agent::Client;
use crate::ctl::server::CtlCtx;

/// Lines read from disk per blocking call.
const BATCH: usize = 1024;

fn failure(kind: CtlErrorKind, message: String) -> CtlError {
    CtlError { kind, message }
}

/// Serves one `ctl logs --output` request; `None` if the client went away.
pub async fn logs(
    ctx: &CtlCtx,
    client: &mut Client,
    (name, follow, last): (String, bool, Option<u32>),
) -> Option<CtlResponse> {
    if let Err(e) = check(ctx, &name) {
        return Some(CtlResponse::Error(e));
    }
    let outputs = &ctx.root.outputs;
    // Subscribed before reading, so a line written meanwhile is not waited for in vain.
    let mut written = follow.then(|| outputs.subscribe(&name));
    let dir = outputs.dir(&name);
    let max_files = outputs.spec().max_files.get();
    let opened = tokio::task::spawn_blocking(move || {
        let (lines, mut cursor) = match last {
            Some(n) => Cursor::last_lines(dir, n as usize, max_files)?,
            None => (Vec::new(), Cursor::from_start(dir, max_files)?),
        };
        if !follow {
            // What is there now, even while a busy child keeps adding to it.
            cursor.stop_at_end();
        }
        Ok((lines, cursor))
    })
    .await;
    let (first, mut cursor) = match flatten(opened) {
        Ok(opened) => opened,
        Err(e) => return Some(read_failed(&name, e)),
    };
    if !send_lines(client, first).await {
        return None;
    }
    loop {
        let read = tokio::task::spawn_blocking(move || {
            let mut lines = Vec::new();
            let result = cursor.read(&mut lines, BATCH);
            result.map(|()| (cursor, lines))
        })
        .await;
        let lines;
        (cursor, lines) = match flatten(read) {
            Ok(read) => read,
            Err(e) => return Some(read_failed(&name, e)),
        };
        let more = lines.len() >= BATCH;
        if !send_lines(client, lines).await {
            return None;
        }
        if more {
            continue;
        }
        let Some(written) = written.as_mut() else {
            return Some(CtlResponse::Ok {
                message: String::new(),
            });
        };
        tokio::select! {
            changed = written.changed() => {
                if changed.is_err() {
                    return Some(CtlResponse::Error(failure(CtlErrorKind::ShuttingDown, "podsup is shutting down".into())));
                }
            }
            () = client.gone() => return None,
        }
    }
}

/// Only pods and processes have output; a child that is gone from the tree still has
/// its files.
fn check(ctx: &CtlCtx, name: &str) -> Result<(), CtlError> {
    match ctx.registry.get(name).map(|node| node.kind) {
        Some(NodeKind::Pod | NodeKind::Process) => Ok(()),
        Some(NodeKind::Supervisor) => Err(failure(
            CtlErrorKind::BadRequest,
            format!("{name} is a supervisor: only pods and processes have output"),
        )),
        None if ctx.root.outputs.dir(name).is_dir() => Ok(()),
        None => Err(failure(
            CtlErrorKind::NotFound,
            format!("no pod or process named {name:?} (see `podsup ctl status`)"),
        )),
    }
}

fn flatten<T>(joined: Result<std::io::Result<T>, tokio::task::JoinError>) -> Result<T, String> {
    match joined {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn read_failed(name: &str, e: String) -> CtlResponse {
    CtlResponse::Error(failure(
        CtlErrorKind::Internal,
        format!("cannot read the output of {name}: {e}"),
    ))
}

async fn send_lines(client: &mut Client, lines: Vec<String>) -> bool {
    for line in lines {
        if !client.send(&CtlResponse::OutputLine { line }).await {
            return false;
        }
    }
    true
}
