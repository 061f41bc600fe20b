//! JSON messages of the Nexgent agent server (reference document 003).

use serde_json::{json, Value};

use crate::clock::iso_now;

/// `{"type":"connected","data":{"agentId":..,"timestamp":..}}`
pub(crate) fn connected(agent_id: &str) -> String {
    json!({"type": "connected", "data": {"agentId": agent_id, "timestamp": iso_now()}}).to_string()
}

/// `{"type":"initial_data","data":{"positions":[..]}}` with two positions.
pub(crate) fn initial_data(agent_id: &str) -> String {
    json!({"type": "initial_data", "data": {"positions": sample_positions(agent_id)}}).to_string()
}

/// `{"type":"ping","timestamp":..}`
pub(crate) fn ping() -> String {
    json!({"type": "ping", "timestamp": iso_now()}).to_string()
}

/// `{"type":"position_update","data":<data>}`
pub(crate) fn position_update(data: Value) -> String {
    json!({"type": "position_update", "data": data}).to_string()
}

/// `{"type":"price_update_batch","data":{"updates":<updates>,"timestamp":..}}`
pub(crate) fn price_update_batch(updates: Value) -> String {
    json!({"type": "price_update_batch", "data": {"updates": updates, "timestamp": iso_now()}})
        .to_string()
}

/// `{"type":"error","data":{"message":..}}`
pub(crate) fn error(message: &str) -> String {
    json!({"type": "error", "data": {"message": message}}).to_string()
}

/// Two open positions enriched with current prices and P/L, as the server
/// sends them on connect.
fn sample_positions(agent_id: &str) -> Value {
    json!([
        {
            "id": format!("{agent_id}-pos-1"),
            "agentId": agent_id,
            "walletAddress": "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
            "tokenAddress": "DezXAZ8z7PnrnRJjz3wXBoRgixCa6xjnB7YaB1pPB263",
            "tokenSymbol": "BONK",
            "purchasePrice": 0.000000152,
            "purchaseAmount": 1_250_000.0,
            "currentPrice": 0.000000161,
            "currentPriceUsd": 0.0000231,
            "profitLossSol": 0.01125,
            "profitLossPercent": 5.92,
            "stopLossPercentage": -12.5,
            "createdAt": "2025-01-17T14:02:11.000Z"
        },
        {
            "id": format!("{agent_id}-pos-2"),
            "agentId": agent_id,
            "walletAddress": "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU",
            "tokenAddress": "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm",
            "tokenSymbol": "WIF",
            "purchasePrice": 0.01184,
            "purchaseAmount": 42.0,
            "currentPrice": 0.01131,
            "currentPriceUsd": 1.62,
            "profitLossSol": -0.02226,
            "profitLossPercent": -4.48,
            "stopLossPercentage": -10.0,
            "createdAt": "2025-01-17T14:20:45.000Z"
        }
    ])
}
