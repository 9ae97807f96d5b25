//! Each function's services over an SDK configuration, built as its `main` builds them
//! (`aws::…_services`), for `TestApp` to give each function its own role.

use std::sync::Arc;

use passwordless::aws::dynamo::DynamoStore;
use passwordless::aws::{dynamodb_client, ses, sns};
use passwordless::keys::KeyServices;
use passwordless::login::LoginServices;
use passwordless::oauth2::hosted::HostedServices;
use passwordless::oauth2::landing::LandingServices;
use passwordless::oauth2::logout::LogoutServices;
use passwordless::oauth2::token::TokenServices;
use passwordless::refresh::RefreshServices;
use passwordless::send::{DeliverySettings, SendServices};
use passwordless::start::StartServices;
use passwordless::suppression::SuppressionServices;
use passwordless::system::{OsRandom, SystemClock};
use passwordless::users::import::ImportServices;
use passwordless::users::registration::RegistrationServices;
use passwordless::users::UserServices;

use super::Wiring;

/// A function's services over `sdk`, built as its `main` builds them (`aws::…_services`), but
/// with the store uncached: a test that revokes a key must see it at once.
pub trait Wired {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self;
}

/// The store as the functions build it: with the interceptor that times every call.
fn store(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Arc<DynamoStore> {
    Arc::new(DynamoStore::new(
        dynamodb_client(sdk),
        wiring.tables.clone(),
    ))
}

impl Wired for RegistrationServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            users: store.clone(),
            tokens: store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

impl Wired for ImportServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            users: store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

impl Wired for StartServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            codes: store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

impl Wired for SendServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            codes: store.clone(),
            rate_limiter: store.clone(),
            suppressions: store,
            mailer: Arc::new(ses::SesMailer::new(
                sdk,
                Some(wiring.configuration_set.clone()),
            )),
            sms: Arc::new(sns::SnsSms::new(sdk, Some("PIEDPIPER".into()), None)),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            settings: Arc::new(DeliverySettings {
                default_base_url: Some("https://default.example".into()),
            }),
        }
    }
}

impl Wired for LoginServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            codes: store.clone(),
            sessions: store,
            signer: Arc::new(passwordless::tokens::Signer::default()),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            users: None,
        }
    }
}

impl Wired for SuppressionServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        Self {
            suppressions: store(sdk, wiring),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Wired for RefreshServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            tokens: store,
            signer: Arc::new(passwordless::tokens::Signer::default()),
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            application_revocations: Arc::default(),
        }
    }
}

impl Wired for LandingServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            login: LoginServices {
                users: Some(store.clone()),
                ..LoginServices::wired(sdk, wiring)
            },
            authorization_codes: store.clone(),
            rate_limiter: store.clone(),
            pending_logins: store.clone(),
            sso_sessions: store,
        }
    }
}

impl Wired for HostedServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        Self {
            send: SendServices::wired(sdk, wiring),
            pending_logins: store(sdk, wiring),
            landing: LandingServices::wired(sdk, wiring),
        }
    }
}

impl Wired for TokenServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            authorization_codes: store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
            refresh: RefreshServices::wired(sdk, wiring),
        }
    }
}

impl Wired for LogoutServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            sso_sessions: store.clone(),
            tokens: store,
            signer: Arc::new(passwordless::tokens::Signer::default()),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Wired for UserServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        let store = store(sdk, wiring);
        Self {
            directory: store.clone(),
            users: store.clone(),
            refresh_tokens: store,
            clock: Arc::new(SystemClock),
            random: Arc::new(OsRandom),
        }
    }
}

impl Wired for KeyServices {
    fn wired(sdk: &aws_config::SdkConfig, wiring: &Wiring) -> Self {
        Self {
            directory: store(sdk, wiring),
            signer: Arc::new(passwordless::tokens::Signer::default()),
            clock: Arc::new(SystemClock),
        }
    }
}
