//! The latency of every AWS call, as a metric: one SDK interceptor, given to every client this
//! crate builds ([`dynamodb_client`], [`ses_client`], [`sns_client`]), so no adapter times its
//! own calls and none can forget to.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// Times each operation from before its input is serialized to after its output (or error) is
/// read: the whole call as the use case waits for it, retries included.
#[derive(Debug)]
struct CallTimer;

#[derive(Clone, Debug)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallTimer {
    fn name(&self) -> &'static str {
        "CallTimer"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Started(started)) = cfg.load::<Started>() else {
            return Ok(());
        };
        let millis = started.elapsed().as_secs_f64() * 1000.0;
        let failed = !matches!(context.output_or_error(), Some(Ok(_)));
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_else(|| ("unknown".to_owned(), "unknown".to_owned()));
        crate::metrics::aws_call(&service, &operation, millis, failed);
        Ok(())
    }
}

pub fn dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .interceptor(CallTimer)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

pub fn ses_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::config::Builder::from(sdk)
        .interceptor(CallTimer)
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

pub fn sns_client(sdk: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::config::Builder::from(sdk)
        .interceptor(CallTimer)
        .build();
    aws_sdk_sns::Client::from_conf(config)
}
