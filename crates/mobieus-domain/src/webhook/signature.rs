//! The two signature headers of a webhook request, over the exact body bytes sent:
//! `Mobieus-Signature: t=<unix>,v1=<hex>[,v1_prev=<hex>]`, where
//! v1 = hex(HMAC-SHA256(key, "<t>.<body>")), and the Standard Webhooks
//! `webhook-signature: v1,<base64> [v1,<base64>]` over "<webhook-id>.<t>.<body>".
//! During a rotation's grace window both carry a second signature made with the previous
//! secret, so receivers verify with either.

use super::WebhookSecret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

/// The signature header values of one attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureHeaders {
    /// `Mobieus-Signature`.
    pub mobieus_signature: String,
    /// `webhook-signature` (Standard Webhooks).
    pub webhook_signature: String,
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Signs `body` as sent at `timestamp` (Unix seconds) for the event `webhook_id`.
pub fn sign(
    webhook_id: &str,
    timestamp: i64,
    body: &[u8],
    current: &WebhookSecret,
    previous: Option<&WebhookSecret>,
) -> SignatureHeaders {
    let t = timestamp.to_string();
    let ours = |s: &WebhookSecret| hex::encode(hmac(s.key(), &[t.as_bytes(), b".", body]));
    let standard = |s: &WebhookSecret| {
        format!(
            "v1,{}",
            STANDARD.encode(hmac(
                s.key(),
                &[webhook_id.as_bytes(), b".", t.as_bytes(), b".", body]
            ))
        )
    };
    let mut mobieus_signature = format!("t={t},v1={}", ours(current));
    let mut webhook_signature = standard(current);
    if let Some(prev) = previous {
        mobieus_signature.push_str(&format!(",v1_prev={}", ours(prev)));
        webhook_signature.push(' ');
        webhook_signature.push_str(&standard(prev));
    }
    SignatureHeaders {
        mobieus_signature,
        webhook_signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared vectors (`signature-vectors.json`), with and without a previous secret.
    #[test]
    fn matches_the_published_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("signature-vectors.json")).unwrap();
        let vectors = doc["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 2);
        for v in vectors {
            let current = WebhookSecret::parse(v["secret"].as_str().unwrap()).unwrap();
            let previous = v
                .get("previous_secret")
                .map(|p| WebhookSecret::parse(p.as_str().unwrap()).unwrap());
            let got = sign(
                v["webhook_id"].as_str().unwrap(),
                v["timestamp"].as_i64().unwrap(),
                v["body"].as_str().unwrap().as_bytes(),
                &current,
                previous.as_ref(),
            );
            assert_eq!(
                got.mobieus_signature,
                v["mobieus_signature"].as_str().unwrap(),
                "{}",
                v["name"]
            );
            assert_eq!(
                got.webhook_signature,
                v["webhook_signature"].as_str().unwrap(),
                "{}",
                v["name"]
            );
        }
    }

    #[test]
    fn a_changed_byte_changes_both_signatures() {
        let s = WebhookSecret::generate();
        let a = sign("evt_1", 1, b"{\"a\":1}", &s, None);
        let b = sign("evt_1", 1, b"{\"a\":2}", &s, None);
        assert_ne!(a.mobieus_signature, b.mobieus_signature);
        assert_ne!(a.webhook_signature, b.webhook_signature);
    }
}
