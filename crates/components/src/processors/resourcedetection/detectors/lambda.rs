//! `lambda`: the AWS Lambda runtime's environment variables (upstream
//! internal/aws/lambda). Without `AWS_LAMBDA_FUNCTION_NAME` it is not on Lambda and sets
//! nothing.

use super::{Builder, DetectError, Detected, EnvLookup, SCHEMA_URL};
use crate::processors::resourcedetection::attrs::Enabled;

/// The `lambda` detector.
pub struct LambdaDetector {
    enabled: Enabled,
}

impl LambdaDetector {
    /// A detector with these attributes on.
    pub fn new(enabled: Enabled) -> Self {
        LambdaDetector { enabled }
    }

    /// Reads the environment now.
    pub fn detect(&self, env: &EnvLookup) -> Result<Detected, DetectError> {
        let Some(function) = env("AWS_LAMBDA_FUNCTION_NAME").filter(|f| !f.is_empty()) else {
            return Err(DetectError::Missing("not on AWS Lambda: AWS_LAMBDA_FUNCTION_NAME is not set".to_string()));
        };
        let mut b = Builder::new(&self.enabled, SCHEMA_URL);
        b.str("cloud.provider", "aws");
        b.str("cloud.platform", "aws_lambda");
        if let Some(v) = env("AWS_REGION") {
            b.str("cloud.region", v);
        }
        b.str("faas.name", function);
        if let Some(v) = env("AWS_LAMBDA_FUNCTION_VERSION") {
            b.str("faas.version", v);
        }
        // The spec recommends the full log stream name as faas.instance on Lambda.
        if let Some(v) = env("AWS_LAMBDA_LOG_STREAM_NAME") {
            b.str("faas.instance", v);
        }
        if let Some(v) = env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE") {
            b.str("faas.max_memory", v);
        }
        if let Some(v) = env("AWS_LAMBDA_LOG_GROUP_NAME") {
            b.strs("aws.log.group.names", vec![v]);
        }
        if let Some(v) = env("AWS_LAMBDA_LOG_STREAM_NAME") {
            b.strs("aws.log.stream.names", vec![v]);
        }
        Ok(b.finish())
    }
}
