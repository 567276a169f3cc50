//! Deliveries and their attempts, as the management API shows them.

use super::{DeliveryId, EndpointId};
use crate::time::Timestamp;
use serde::Serialize;

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    Succeeded,
    /// Every attempt of the schedule failed.
    Failed,
    Cancelled,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Succeeded,
            DeliveryStatus::Failed,
            DeliveryStatus::Cancelled,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// One event on its way to one endpoint, across all its attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: DeliveryId,
    /// The event sent (`evt_…`); also the `webhook-id` header of every attempt.
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: EndpointId,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (pending deliveries only).
    #[schema(required = true)]
    pub next_attempt_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One attempt, as it went over the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    pub started_at: Timestamp,
    pub duration_ms: u64,
    /// The request headers exactly as sent, signatures included.
    #[schema(value_type = Object)]
    pub request_headers: serde_json::Value,
    /// The receiver's status code; `null` when no answer came (see `error`).
    #[schema(required = true)]
    pub response_status: Option<u16>,
    /// The start of the response body (capped).
    #[schema(required = true)]
    pub response_excerpt: Option<String>,
    /// What went wrong when no answer came.
    #[schema(required = true)]
    pub error: Option<String>,
}
