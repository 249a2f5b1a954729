//! Path escapes: `..`, absolute paths, symlinks in the middle or at the end, and symlinks
//! swapped in while calls run. All refused, and nothing outside is touched.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};
use serde_json::json;

use crate::{Pod, refused};

#[tokio::test]
async fn dotdot_escapes_are_refused() {
    let pod = Pod::whole();
    for path in ["../outside/secret", "a/../../outside/secret", ".."] {
        let message = format!("path escapes the pod's directory: {path}");
        refused(
            &pod.call("read_file", json!({"path": path})).await,
            &message,
        );
        refused(
            &pod.call("write_file", json!({"path": path, "content": "x"}))
                .await,
            &message,
        );
        refused(
            &pod.call(
                "edit_file",
                json!({"path": path, "old": "SECRET", "new": "x"}),
            )
            .await,
            &message,
        );
        refused(&pod.call("list_dir", json!({"path": path})).await, &message);
        refused(
            &pod.call("grep", json!({"pattern": "S", "path": path}))
                .await,
            &message,
        );
    }
    refused(
        &pod.call("glob", json!({"pattern": "../*"})).await,
        "path escapes the pod's directory: ../*",
    );
    pod.outside_untouched();
}

#[tokio::test]
async fn absolute_paths_are_refused_even_inside_the_root() {
    let pod = Pod::whole();
    pod.put("a.txt", "a");
    refused(
        &pod.call("read_file", json!({"path": "/etc/passwd"})).await,
        "absolute paths are not allowed: /etc/passwd",
    );
    let inside = pod.root.join("a.txt").display().to_string();
    refused(
        &pod.call("read_file", json!({"path": inside})).await,
        &format!("absolute paths are not allowed: {inside}"),
    );
    let outside = pod.outside.join("secret").display().to_string();
    refused(
        &pod.call("write_file", json!({"path": outside, "content": "x"}))
            .await,
        &format!("absolute paths are not allowed: {outside}"),
    );
    refused(
        &pod.call("glob", json!({"pattern": "/etc/*"})).await,
        "absolute paths are not allowed: /etc/*",
    );
    pod.outside_untouched();
}

#[tokio::test]
async fn a_directory_symlink_in_the_middle_is_refused() {
    let pod = Pod::whole();
    symlink(&pod.outside, pod.root.join("up")).unwrap();
    refused(
        &pod.call("read_file", json!({"path": "up/secret"})).await,
        "symlink in path: up/secret",
    );
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "up/secret", "old": "SECRET", "new": "x"}),
        )
        .await,
        "symlink in path: up/secret",
    );
    refused(
        &pod.call("write_file", json!({"path": "up/new", "content": "x"}))
            .await,
        "symlink in path: up",
    );
    refused(
        &pod.call(
            "write_file",
            json!({"path": "up/deeper/new", "content": "x"}),
        )
        .await,
        "symlink in path: up",
    );
    refused(
        &pod.call("list_dir", json!({"path": "up"})).await,
        "symlink in path: up",
    );
    refused(
        &pod.call("grep", json!({"pattern": "SECRET", "path": "up/secret"}))
            .await,
        "symlink in path: up/secret",
    );
    // A symlink that stays inside is refused all the same.
    pod.put("real/f", "inside");
    symlink("real", pod.root.join("alias")).unwrap();
    refused(
        &pod.call("read_file", json!({"path": "alias/f"})).await,
        "symlink in path: alias/f",
    );
    pod.outside_untouched();
}

#[tokio::test]
async fn a_symlink_as_the_last_component_is_refused() {
    let pod = Pod::whole();
    symlink(pod.outside.join("secret"), pod.root.join("link")).unwrap();
    refused(
        &pod.call("read_file", json!({"path": "link"})).await,
        "symlink in path: link",
    );
    refused(
        &pod.call("write_file", json!({"path": "link", "content": "x"}))
            .await,
        "symlink in path: link",
    );
    refused(
        &pod.call(
            "edit_file",
            json!({"path": "link", "old": "SECRET", "new": "x"}),
        )
        .await,
        "symlink in path: link",
    );
    refused(
        &pod.call("grep", json!({"pattern": "SECRET", "path": "link"}))
            .await,
        "symlink in path: link",
    );
    // A dangling link is not created through either.
    symlink(pod.outside.join("new"), pod.root.join("dangling")).unwrap();
    refused(
        &pod.call("write_file", json!({"path": "dangling", "content": "x"}))
            .await,
        "symlink in path: dangling",
    );
    pod.outside_untouched();
}

/// `d` flips atomically between a real directory and a symlink to `outside/` while the
/// tools write and read through it: the check always passes (`d/secret` is in scope), and
/// every use must land inside or be refused, never outside.
#[tokio::test]
async fn a_symlink_swapped_in_after_the_check_never_redirects_the_use() {
    let pod = Pod::whole();
    pod.put("d/secret", "inside");
    symlink(&pod.outside, pod.root.join("other")).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flipper = {
        let (root, done) = (pod.root.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                renameat2(
                    AT_FDCWD,
                    &root.join("d"),
                    AT_FDCWD,
                    &root.join("other"),
                    RenameFlags::RENAME_EXCHANGE,
                )
                .unwrap();
                std::thread::sleep(std::time::Duration::from_micros(50));
            }
        })
    };
    for i in 0..300 {
        let content = format!("write {i}");
        let wrote = pod
            .call(
                "write_file",
                json!({"path": "d/secret", "content": content}),
            )
            .await;
        assert!(
            !wrote.is_error || !wrote.output.contains("denied"),
            "{}",
            wrote.output
        );
        let read = pod.call("read_file", json!({"path": "d/secret"})).await;
        if !read.is_error {
            assert!(
                read.output != "SECRET",
                "read outside through a swapped symlink"
            );
        }
        let edited = pod
            .call(
                "edit_file",
                json!({"path": "d/secret", "old": "SECRET", "new": "pwned"}),
            )
            .await;
        assert!(edited.is_error, "edited outside: {}", edited.output);
    }
    done.store(true, Ordering::Relaxed);
    flipper.join().unwrap();
    pod.outside_untouched();
    let real = ["d", "other"]
        .into_iter()
        .find(|name| {
            std::fs::symlink_metadata(pod.root.join(name))
                .unwrap()
                .is_dir()
        })
        .unwrap();
    let inside = pod.get(&format!("{real}/secret"));
    assert!(
        inside.starts_with("write ") || inside == "inside",
        "{inside}"
    );
}
