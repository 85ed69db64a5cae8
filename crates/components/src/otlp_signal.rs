//! What OTLP needs per signal, written once: gRPC method paths, default HTTP paths, JSON
//! codecs and the response's partial-success fields. Used by the OTLP receiver, both OTLP
//! exporters and the traffic generator.

use switchyard_pdata::json;
use switchyard_pdata::proto::collector::logs::v1::ExportLogsServiceResponse;
use switchyard_pdata::proto::collector::metrics::v1::ExportMetricsServiceResponse;
use switchyard_pdata::proto::collector::profiles::v1development::ExportProfilesServiceResponse;
use switchyard_pdata::proto::collector::trace::v1::ExportTraceServiceResponse;
use switchyard_pdata::{Logs, Metrics, Profiles, SignalData, Traces};

/// A signal as OTLP carries it.
pub trait OtlpSignal: SignalData {
    /// The gRPC service name.
    const GRPC_SERVICE: &'static str;
    /// The gRPC method path.
    const GRPC_PATH: &'static str;
    /// The default OTLP/HTTP path.
    const HTTP_PATH: &'static str;
    /// The export response message.
    type Response: prost::Message + Default + Clone + Send + Sync + 'static;
    /// Decodes an OTLP/JSON request body.
    fn decode_json(body: &[u8]) -> Result<Self::Request, String>;
    /// Encodes the request as OTLP/JSON.
    fn encode_json(req: &Self::Request) -> Result<Vec<u8>, String>;
    /// Encodes a response as OTLP/JSON.
    fn encode_json_response(r: &Self::Response) -> Vec<u8>;
    /// Decodes an OTLP/JSON response.
    fn decode_json_response(body: &[u8]) -> Result<Self::Response, String>;
    /// The rejected count and message of a response, if it reports a partial success.
    fn rejected(r: &Self::Response) -> Option<(i64, &str)>;
}

macro_rules! otlp_signal {
    ($ty:ty, $svc:literal, $path:literal, $resp:ty, $field:ident,
     $dec:path, $enc:path, $enc_resp:path, $dec_resp:path) => {
        impl OtlpSignal for $ty {
            const GRPC_SERVICE: &'static str = concat!("opentelemetry.proto.collector.", $svc);
            const GRPC_PATH: &'static str = concat!("/opentelemetry.proto.collector.", $svc, "/Export");
            const HTTP_PATH: &'static str = $path;
            type Response = $resp;
            fn decode_json(body: &[u8]) -> Result<Self::Request, String> {
                $dec(body).map_err(|e| e.to_string())
            }
            fn encode_json(req: &Self::Request) -> Result<Vec<u8>, String> {
                Ok($enc(req))
            }
            fn encode_json_response(r: &Self::Response) -> Vec<u8> {
                $enc_resp(r)
            }
            fn decode_json_response(body: &[u8]) -> Result<Self::Response, String> {
                $dec_resp(body).map_err(|e| e.to_string())
            }
            fn rejected(r: &Self::Response) -> Option<(i64, &str)> {
                r.partial_success
                    .as_ref()
                    .filter(|p| p.$field != 0 || !p.error_message.is_empty())
                    .map(|p| (p.$field, p.error_message.as_str()))
            }
        }
    };
}

otlp_signal!(
    Traces,
    "trace.v1.TraceService",
    "/v1/traces",
    ExportTraceServiceResponse,
    rejected_spans,
    json::decode_traces,
    json::encode_traces,
    json::encode_trace_response,
    json::decode_trace_response
);
otlp_signal!(
    Metrics,
    "metrics.v1.MetricsService",
    "/v1/metrics",
    ExportMetricsServiceResponse,
    rejected_data_points,
    json::decode_metrics,
    json::encode_metrics,
    json::encode_metrics_response,
    json::decode_metrics_response
);
otlp_signal!(
    Logs,
    "logs.v1.LogsService",
    "/v1/logs",
    ExportLogsServiceResponse,
    rejected_log_records,
    json::decode_logs,
    json::encode_logs,
    json::encode_logs_response,
    json::decode_logs_response
);

impl OtlpSignal for Profiles {
    const GRPC_SERVICE: &'static str = "opentelemetry.proto.collector.profiles.v1development.ProfilesService";
    const GRPC_PATH: &'static str = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export";
    const HTTP_PATH: &'static str = "/v1development/profiles";
    type Response = ExportProfilesServiceResponse;
    fn decode_json(_body: &[u8]) -> Result<Self::Request, String> {
        Err("OTLP/JSON is not supported for profiles; send application/x-protobuf".into())
    }
    fn encode_json(_req: &Self::Request) -> Result<Vec<u8>, String> {
        Err("OTLP/JSON is not supported for profiles; use encoding: proto".into())
    }
    fn encode_json_response(r: &Self::Response) -> Vec<u8> {
        match &r.partial_success {
            Some(p) => serde_json::json!({"partialSuccess": {"rejectedProfiles": p.rejected_profiles.to_string(), "errorMessage": p.error_message}})
                .to_string()
                .into_bytes(),
            None => b"{}".to_vec(),
        }
    }
    fn decode_json_response(_body: &[u8]) -> Result<Self::Response, String> {
        Ok(Self::Response::default())
    }
    fn rejected(r: &Self::Response) -> Option<(i64, &str)> {
        r.partial_success
            .as_ref()
            .filter(|p| p.rejected_profiles != 0 || !p.error_message.is_empty())
            .map(|p| (p.rejected_profiles, p.error_message.as_str()))
    }
}

/// `google.rpc.Status`, the body of OTLP error responses.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    /// gRPC status code.
    #[prost(int32, tag = "1")]
    pub code: i32,
    /// Message.
    #[prost(string, tag = "2")]
    pub message: String,
    /// Details (`google.protobuf.Any`), e.g. RetryInfo.
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<ProtoAny>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoAny {
    /// Type URL.
    #[prost(string, tag = "1")]
    pub type_url: String,
    /// Encoded message.
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RetryInfo {
    /// How long to wait.
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProtoDuration {
    /// Seconds.
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    /// Nanoseconds.
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// Type URL of RetryInfo in status details.
pub const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";
