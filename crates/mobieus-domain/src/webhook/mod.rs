//! Webhook rules that need no I/O: signing secrets and signatures, the SSRF policy for
//! target URLs and addresses, and the retry schedule. The delivery engine applies them.

mod delivery;
mod endpoint;
mod retry;
mod secret;
mod sent_headers;
mod signature;
mod ssrf;
mod url;

pub use delivery::{Attempt, Delivery, DeliveryStatus};
pub use endpoint::{BadSelection, DeliveryId, Endpoint, EndpointId, EventSelection};
pub use retry::{BadSchedule, RetrySchedule, parse_duration};
pub use secret::{BadSecret, WebhookSecret};
pub use sent_headers::SentHeaders;
pub use signature::{BadSignature, SignatureHeaders, sign, verify, verify_standard};
pub use ssrf::{Denied, check_address, check_host_name};
pub use url::{LoopbackPolicy, UnsafeUrl, WebhookUrl, check_resolved};
