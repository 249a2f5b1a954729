//! The `podsup` binary: root daemon, ctl client and pod worker in one file.

fn main() -> std::process::ExitCode {
    podsup::cli::main()
}
