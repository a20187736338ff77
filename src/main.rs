//! The `hascript` binary.

fn main() {
    let code = hascript::cli::main();
    std::process::exit(code);
}
