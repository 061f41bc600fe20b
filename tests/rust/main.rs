//! Scenario tests: the tradewire client over real sockets on 127.0.0.1, against the testkit
//! and against servers nobody on this team wrote. One behaviour per file.

mod support;

mod abnormal_close;
mod agent;
mod agent_id;
mod bad_input;
mod breakout;
mod close_prompt;
mod doc002_python_peer;
mod doc002_testkit;
mod fatal_close;
mod half_open;
mod handshake_tail;
mod inline_reads;
mod json_request;
mod lag;
mod lifecycle_disconnect;
mod listeners_and_recv;
mod listeners_off;
mod listeners_order;
mod listeners_panic;
mod preset_schedules;
mod recv_batch;
mod reliability_delivery;
mod reliability_fault_soak;
mod reliability_footprint;
mod reliability_huge_frame;
mod reliability_lifecycle;
mod reliability_reconnect_herd;
mod reliability_send_limit;
mod reliability_slow_consumer;
mod secrets;
mod send_and_auth;
mod server_time;
mod slow_consumer;
mod sockjs_peer;
mod thread_leak;
mod tls;
mod tradovate_send_request;
mod tradovate_session;
mod tradovate_tokens;
