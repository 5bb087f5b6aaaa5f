use clap::Parser;
use liftoff::config::{Cli, Command};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let result = match cli.command {
        Some(Command::MigrateData { from, to }) => liftoff::migrate_data::run(&from, &to).await,
        None => liftoff::serve(cli.config).await,
    };
    if let Err(e) = result {
        tracing::error!("{e}");
        eprintln!("liftoff: {e}");
        std::process::exit(1);
    }
}
