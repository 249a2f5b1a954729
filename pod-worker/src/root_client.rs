//! The pod's requests to the root (orchestration tools), each with a correlation id and a
//! typed answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use podsup_wire::request::RefusalKind;
use podsup_wire::{PodReply, PodRequest, PodToRoot};
use tokio::sync::{mpsc, oneshot};

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<PodReply>>>>;

/// Sends requests to the root and matches its replies. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RootClient {
    /// This pod's name, for resolving short child names.
    name: String,
    to_root: mpsc::UnboundedSender<PodToRoot>,
    pending: Pending,
    next: Arc<AtomicU64>,
}

impl RootClient {
    /// A client for pod `name` sending through `to_root`.
    pub fn new(name: &str, to_root: mpsc::UnboundedSender<PodToRoot>) -> Self {
        Self {
            name: name.to_owned(),
            to_root,
            pending: Arc::default(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }

    /// This pod's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A child's full name: `tests` means `<this pod>/tests`.
    pub fn full_name(&self, name: &str) -> String {
        match name.contains('/') || name == self.name {
            true => name.to_owned(),
            false => format!("{}/{name}", self.name),
        }
    }

    /// Sends `request` and waits for the root's answer.
    pub async fn request(&self, request: PodRequest) -> PodReply {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id, tx);
        if self
            .to_root
            .send(PodToRoot::Request { id, request })
            .is_err()
        {
            self.lock().remove(&id);
            return refused("the link to the root is gone");
        }
        rx.await
            .unwrap_or_else(|_| refused("the root did not answer"))
    }

    /// Hands the root's reply `id` to whoever waits for it.
    pub fn resolve(&self, id: u64, reply: PodReply) {
        match self.lock().remove(&id) {
            Some(waiter) => {
                if waiter.send(reply).is_err() {
                    tracing::debug!(id, "requester gave up before the reply");
                }
            }
            None => tracing::warn!(id, "reply to a request this pod did not make"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<PodReply>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn refused(message: &str) -> PodReply {
    PodReply::Refused {
        kind: RefusalKind::Invalid,
        message: message.to_owned(),
    }
}
