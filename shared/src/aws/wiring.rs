//! Each function's services on AWS, built once per container: DynamoDB (the directory behind a
//! warm-container cache), and for send SES v2 and SNS; the wall clock and the OS random source.
//! A function gets only what its use case runs on, so only send carries an email or SMS client.

use std::sync::Arc;

use super::{dynamo, lambda_sdk_config, ses, sns, MissingAwsSetting};
use crate::cache::CachedDirectory;
use crate::config::Config;
use crate::keys::KeyServices;
use crate::login::LoginServices;
use crate::oauth2::landing::LandingServices;
use crate::oauth2::token::TokenServices;
use crate::ports::Directory;
use crate::refresh::RefreshServices;
use crate::send::{DeliverySettings, SendServices};
use crate::start::StartServices;
use crate::suppression::SuppressionServices;
use crate::system::{Clock, OsRandom, Random, SystemClock};

/// The DynamoDB store and the cached directory in front of it.
fn stores(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> (Arc<dynamo::DynamoStore>, Arc<dyn Directory>) {
    let store = Arc::new(dynamo::DynamoStore::new(
        super::timing::dynamodb_client(sdk),
        config.tables.clone(),
    ));
    let directory = Arc::new(CachedDirectory::new(store.clone(), config.directory_cache));
    (store, directory)
}

fn clock_and_random() -> (Arc<dyn Clock>, Arc<dyn Random>) {
    (Arc::new(SystemClock), Arc::new(OsRandom))
}

pub fn start_services(config: &Config) -> Result<StartServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(StartServices {
        directory,
        codes: store,
        clock,
        random,
    })
}

pub fn send_services(config: &Config) -> Result<SendServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(SendServices {
        directory,
        codes: store.clone(),
        rate_limiter: store.clone(),
        suppressions: store,
        mailer: Arc::new(ses::SesMailer::new(
            &sdk,
            config.ses_configuration_set.clone(),
        )),
        sms: Arc::new(sns::SnsSms::new(
            &sdk,
            config.sms_sender_id.clone(),
            config.sms_origination_number.clone(),
        )),
        clock,
        random,
        settings: Arc::new(DeliverySettings {
            default_base_url: config.default_base_url.clone(),
        }),
    })
}

pub fn login_services(config: &Config) -> Result<LoginServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(LoginServices {
        directory,
        codes: store.clone(),
        sessions: store,
        signer: Arc::new(crate::tokens::Signer::default()),
        clock,
        random,
        users: None,
    })
}

pub fn refresh_services(config: &Config) -> Result<RefreshServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(RefreshServices {
        directory,
        tokens: store,
        signer: Arc::new(crate::tokens::Signer::default()),
        clock,
        random,
        application_revocations: Arc::default(),
    })
}

/// The JWKS, public-key, discovery and validate functions: the cached directory, the signer (to
/// verify), the clock.
pub fn key_services(config: &Config) -> Result<KeyServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (_, directory) = stores(config, &sdk);
    let (clock, _) = clock_and_random();
    Ok(KeyServices {
        directory,
        signer: Arc::new(crate::tokens::Signer::default()),
        clock,
    })
}

/// The landing page (and the hosted login's waiting page): the login's services, which create
/// a sign-up's user, and the authorization codes, on one store.
pub fn landing_services(config: &Config) -> Result<LandingServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(LandingServices {
        login: LoginServices {
            directory,
            codes: store.clone(),
            sessions: store.clone(),
            signer: Arc::new(crate::tokens::Signer::default()),
            clock,
            random,
            users: Some(store.clone()),
        },
        authorization_codes: store.clone(),
        rate_limiter: store.clone(),
        pending_logins: store.clone(),
        sso_sessions: store,
    })
}

/// `/oauth2/authorize`: the legacy send's services (start and send a code) and the pending
/// logins.
pub fn authorize_services(
    config: &Config,
) -> Result<crate::oauth2::hosted::HostedServices, MissingAwsSetting> {
    let store = Arc::new(dynamo::DynamoStore::new(
        super::timing::dynamodb_client(&lambda_sdk_config()?),
        config.tables.clone(),
    ));
    let mut landing = landing_services(config)?;
    // Answering from the SSO session uses no code: nothing here completes a sign-up.
    landing.login.users = None;
    Ok(crate::oauth2::hosted::HostedServices {
        send: send_services(config)?,
        pending_logins: store,
        landing,
    })
}

/// `/oauth2/token`: applications (cached), authorization codes, and for the refresh token grant
/// `POST /api/jwt/refresh`'s services.
pub fn token_services(config: &Config) -> Result<TokenServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(TokenServices {
        directory: directory.clone(),
        authorization_codes: store.clone(),
        clock: clock.clone(),
        random: random.clone(),
        refresh: RefreshServices {
            directory,
            tokens: store,
            signer: Arc::new(crate::tokens::Signer::default()),
            clock,
            random,
            application_revocations: Arc::default(),
        },
    })
}

/// The suppress function's: the suppression list in the Directory table, the wall clock.
pub fn suppression_services(config: &Config) -> Result<SuppressionServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, _) = stores(config, &sdk);
    Ok(SuppressionServices {
        suppressions: store,
        clock: Arc::new(SystemClock),
    })
}

/// `/oauth2/logout` and `POST /api/logout`: the cached directory (clients, tenants, the keys that
/// verify an `id_token_hint`), SSO sessions and refresh tokens on one store, the signer (to
/// verify), the clock.
pub fn logout_services(
    config: &Config,
) -> Result<crate::oauth2::logout::LogoutServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, _) = clock_and_random();
    Ok(crate::oauth2::logout::LogoutServices {
        directory,
        sso_sessions: store.clone(),
        tokens: store,
        signer: Arc::new(crate::tokens::Signer::default()),
        clock,
    })
}

/// The Registration API: the cached directory (keys, tenants, applications; users are never
/// cached), the users on the store, refresh tokens (a deleted registration revokes the user's
/// for the application), the clock and the random source.
pub fn registration_services(
    config: &Config,
) -> Result<crate::users::registration::RegistrationServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(crate::users::registration::RegistrationServices {
        directory,
        users: store.clone(),
        tokens: store,
        clock,
        random,
    })
}

/// `POST /api/user/import`: the cached directory and the users on the store.
pub fn import_services(
    config: &Config,
) -> Result<crate::users::import::ImportServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(crate::users::import::ImportServices {
        directory,
        users: store,
        clock,
        random,
    })
}

/// The User API: the cached directory (API keys, tenants; users are never cached), the user
/// store and refresh tokens (deactivation revokes them) on one store, the clock, randomness.
pub fn user_services(config: &Config) -> Result<crate::users::UserServices, MissingAwsSetting> {
    let sdk = lambda_sdk_config()?;
    let (store, directory) = stores(config, &sdk);
    let (clock, random) = clock_and_random();
    Ok(crate::users::UserServices {
        directory,
        users: store.clone(),
        refresh_tokens: store,
        clock,
        random,
    })
}
