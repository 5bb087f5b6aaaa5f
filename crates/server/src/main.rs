use clap::Parser;
use liftoff::config::Config;
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let config = Config::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("LOG_FORMAT").as_deref() == Ok("json") {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    if let Err(e) = liftoff::serve(config).await {
        tracing::error!("{e}");
        eprintln!("liftoff: {e}");
        std::process::exit(1);
    }
}
