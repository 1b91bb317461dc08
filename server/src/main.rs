fn main() -> std::process::ExitCode {
    chorus_server::cli::main()
}
