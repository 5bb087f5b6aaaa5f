//! Run-time configuration: Rocket.Chat's own environment variables, also accepted as flags.

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Settings:
  Any Rocket.Chat setting can be forced with OVERWRITE_SETTING_<SettingId>=<value>, applied on
  every start (\"true\"/\"false\" become booleans, numeric settings are parsed as integers), e.g.
    OVERWRITE_SETTING_API_Default_Count=50
    OVERWRITE_SETTING_API_Upper_Count_Limit=100
    OVERWRITE_SETTING_API_Allow_Infinite_Count=true
    OVERWRITE_SETTING_API_Enable_Rate_Limiter=false
    OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Calls_Default=10
    OVERWRITE_SETTING_API_Enable_Rate_Limiter_Limit_Time_Default=60000

First start:
  On an empty database Liftoff creates the default roles and permissions, the bot user
  rocket.cat, the public default room #general (_id GENERAL) and, when ADMIN_PASS is set and
  no admin exists yet, the administrator described by ADMIN_USERNAME/ADMIN_PASS/ADMIN_EMAIL/
  ADMIN_NAME. Restarting never duplicates or resets them.

Logs:
  RUST_LOG selects what is logged (default \"info\"); LOG_FORMAT=json writes JSON lines.";

/// The command line: without a subcommand, the server starts.
#[derive(Debug, Parser)]
#[command(name = "liftoff", version, about = "A Rocket.Chat-compatible integrations server", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Copies every record of one database into another, empty one (SQLite and PostgreSQL,
    /// either way); stop every server using the source first.
    MigrateData {
        /// The database to copy: sqlite://<path> or postgres://... (as DATABASE_URL).
        #[arg(long, value_name = "DATABASE_URL")]
        from: String,
        /// The empty database to copy into (created if missing for SQLite).
        #[arg(long, value_name = "DATABASE_URL")]
        to: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Port to listen on (0 picks a free port and logs it).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,

    /// Address to listen on.
    #[arg(long, env = "BIND_IP", default_value = "0.0.0.0")]
    pub bind_ip: String,

    /// Public base URL, used to print webhook URLs (default http://localhost:<PORT>).
    #[arg(long, env = "ROOT_URL")]
    pub root_url: Option<String>,

    /// sqlite://<path> (created if missing) or postgres://user[:password]@host[:port]/dbname.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://./data/liftoff.db")]
    pub database_url: String,

    /// Username of the administrator created on first start.
    #[arg(long, env = "ADMIN_USERNAME")]
    pub admin_username: Option<String>,

    /// Password of the administrator created on first start (no admin is created without it).
    #[arg(long, env = "ADMIN_PASS", hide_env_values = true)]
    pub admin_pass: Option<String>,

    /// E-mail address of the administrator created on first start.
    #[arg(long, env = "ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// Display name of the administrator created on first start (default "Administrator").
    #[arg(long, env = "ADMIN_NAME")]
    pub admin_name: Option<String>,

    /// Rocket.Chat's test mode: no REST rate limiting, and the test administrator
    /// rocketchat.internal.admin.test is (re)created.
    #[arg(long, env = "TEST_MODE", default_value_t = false, value_parser = clap::builder::FalseyValueParser::new())]
    pub test_mode: bool,

    /// Rocket.Chat's switch for `users.createToken`: personal login tokens are made only when
    /// this is `true`/`yes`.
    #[arg(long, env = "CREATE_TOKENS_FOR_USERS", default_value_t = false, value_parser = clap::builder::FalseyValueParser::new())]
    pub create_tokens_for_users: bool,
}

impl Config {
    pub fn root_url(&self, port: u16) -> String {
        match &self.root_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://localhost:{port}"),
        }
    }
}
