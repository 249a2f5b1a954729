//! `open_beneath` and its fallback walk against escapes, symlinks and swaps.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{Mode, fstat};
use proptest::prelude::*;

use super::{by_walk, open_beneath, parts};

type Open = fn(&OwnedFd, &Path, OFlag) -> std::io::Result<OwnedFd>;

fn via_openat2(root: &OwnedFd, rel: &Path, flags: OFlag) -> std::io::Result<OwnedFd> {
    open_beneath(root.as_fd(), rel, flags)
}

fn via_walk(root: &OwnedFd, rel: &Path, flags: OFlag) -> std::io::Result<OwnedFd> {
    let flags = flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    by_walk(root.as_fd(), &parts(rel)?, flags)
}

const BOTH: [(&str, Open); 2] = [("openat2", via_openat2), ("walk", via_walk)];

/// `root/` with `a/b/file`, and beside it `outside/` with `secret` and `b/file`; symlinks
/// `root/up -> ../outside`, `root/abs -> <outside>`, `root/a/link -> b/file`,
/// `root/a/inner -> b`.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    outside: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(root.join("a/b")).unwrap();
        fs::create_dir_all(outside.join("b")).unwrap();
        fs::write(root.join("a/b/file"), "inside").unwrap();
        fs::write(outside.join("secret"), "SECRET").unwrap();
        fs::write(outside.join("b/file"), "SECRET").unwrap();
        symlink("../outside", root.join("up")).unwrap();
        symlink(&outside, root.join("abs")).unwrap();
        symlink("b/file", root.join("a/link")).unwrap();
        symlink("b", root.join("a/inner")).unwrap();
        Tree {
            _tmp: tmp,
            root,
            outside,
        }
    }

    fn root_fd(&self) -> OwnedFd {
        nix::fcntl::open(
            &self.root,
            OFlag::O_PATH | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
        .unwrap()
    }

    /// (device, inode) of everything under the root, found without following symlinks.
    fn inside(&self) -> HashSet<(u64, u64)> {
        let mut found = HashSet::new();
        let mut queue = vec![self.root.clone()];
        while let Some(dir) = queue.pop() {
            let meta = fs::symlink_metadata(&dir).unwrap();
            found.insert((meta.dev(), meta.ino()));
            for entry in fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = fs::symlink_metadata(&path).unwrap();
                found.insert((meta.dev(), meta.ino()));
                if meta.is_dir() {
                    queue.push(path);
                }
            }
        }
        found
    }
}

fn read(fd: OwnedFd) -> String {
    let mut text = String::new();
    fs::File::from(fd).read_to_string(&mut text).unwrap();
    text
}

fn errno(result: std::io::Result<OwnedFd>) -> Option<Errno> {
    result
        .err()
        .and_then(|e| e.raw_os_error())
        .map(Errno::from_raw)
}

#[test]
fn opens_plain_paths_beneath_the_root() {
    let tree = Tree::new();
    let root = tree.root_fd();
    for (how, open) in BOTH {
        let fd = open(&root, Path::new("a/b/file"), OFlag::O_RDONLY).unwrap();
        assert_eq!(read(fd), "inside", "{how}");
        let fd = open(&root, Path::new("./a/./b/file"), OFlag::O_RDONLY).unwrap();
        assert_eq!(read(fd), "inside", "{how}");
        open(&root, Path::new(""), OFlag::O_RDONLY | OFlag::O_DIRECTORY).expect(how);
    }
}

#[test]
fn refuses_dotdot_and_absolute_paths() {
    let tree = Tree::new();
    let root = tree.root_fd();
    for (how, open) in BOTH {
        for path in [
            "../outside/secret",
            "a/../../outside/secret",
            "a/../a/b/file",
        ] {
            assert_eq!(
                errno(open(&root, Path::new(path), OFlag::O_RDONLY)),
                Some(Errno::EXDEV),
                "{how} {path}"
            );
        }
        let absolute = tree.outside.join("secret");
        assert_eq!(
            errno(open(&root, &absolute, OFlag::O_RDONLY)),
            Some(Errno::EXDEV),
            "{how}"
        );
    }
}

#[test]
fn refuses_a_symlink_anywhere_in_the_path() {
    let tree = Tree::new();
    let root = tree.root_fd();
    for (how, open) in BOTH {
        for path in ["up/secret", "abs/secret", "a/inner/file", "a/link", "up"] {
            for flags in [
                OFlag::O_RDONLY,
                OFlag::O_PATH,
                OFlag::O_WRONLY | OFlag::O_CREAT,
            ] {
                assert_eq!(
                    errno(open(&root, Path::new(path), flags)),
                    Some(Errno::ELOOP),
                    "{how} {path} {flags:?}"
                );
            }
        }
    }
    assert_eq!(
        fs::read_to_string(tree.outside.join("secret")).unwrap(),
        "SECRET"
    );
    assert_eq!(
        fs::read_to_string(tree.root.join("a/b/file")).unwrap(),
        "inside"
    );
}

#[test]
fn a_component_swapped_for_a_symlink_after_the_check_is_refused() {
    let tree = Tree::new();
    let root = tree.root_fd();
    for (how, open) in BOTH {
        // The check passed on `a/b` as a directory; now it becomes a link out.
        let held = open(&root, Path::new("a/b/file"), OFlag::O_RDONLY).unwrap();
        fs::rename(tree.root.join("a/b"), tree.root.join("a/b.real")).unwrap();
        symlink(tree.outside.join("b"), tree.root.join("a/b")).unwrap();
        assert_eq!(
            errno(open(&root, Path::new("a/b/file"), OFlag::O_RDONLY)),
            Some(Errno::ELOOP),
            "{how}"
        );
        // What was opened before the swap is still the file inside.
        assert_eq!(read(held), "inside", "{how}");
        fs::remove_file(tree.root.join("a/b")).unwrap();
        fs::rename(tree.root.join("a/b.real"), tree.root.join("a/b")).unwrap();
    }
}

#[test]
fn a_symlink_flipping_in_and_out_during_opens_never_lets_one_out() {
    for (how, open) in BOTH {
        let tree = Tree::new();
        let root = tree.root_fd();
        fs::create_dir(tree.root.join("d.dir")).unwrap();
        fs::write(tree.root.join("d.dir/f"), "inside").unwrap();
        symlink(tree.outside.join("b"), tree.root.join("d.link")).unwrap();
        fs::write(tree.outside.join("b/f"), "SECRET").unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let flipper = {
            let (root, done) = (tree.root.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    for name in ["d.dir", "d.link"] {
                        fs::rename(root.join(name), root.join("d")).unwrap();
                        std::thread::sleep(std::time::Duration::from_micros(20));
                        fs::rename(root.join("d"), root.join(name)).unwrap();
                    }
                }
            })
        };
        for _ in 0..3000 {
            if let Ok(fd) = open(&root, Path::new("d/f"), OFlag::O_RDONLY) {
                assert_eq!(read(fd), "inside", "{how}");
            }
        }
        done.store(true, Ordering::Relaxed);
        flipper.join().unwrap();
    }
}

fn arb_part() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "a", "b", "file", "..", ".", "up", "abs", "link", "inner", "secret", "outside", "root",
    ])
}

proptest! {
    #[test]
    fn random_paths_never_resolve_outside_the_root(
        parts in prop::collection::vec(arb_part(), 0..7),
        absolute in any::<bool>(),
        path_only in any::<bool>(),
    ) {
        let tree = Tree::new();
        let root = tree.root_fd();
        let inside = tree.inside();
        let mut path = PathBuf::from(if absolute { tree.root.to_str().unwrap() } else { "" });
        path.extend(parts.iter());
        let flags = if path_only { OFlag::O_PATH } else { OFlag::O_RDONLY };
        for (how, open) in BOTH {
            if let Ok(fd) = open(&root, &path, flags) {
                let stat = fstat(&fd).unwrap();
                prop_assert!(
                    inside.contains(&(stat.st_dev, stat.st_ino)),
                    "{how} opened {path:?} outside the root"
                );
            }
        }
    }
}
