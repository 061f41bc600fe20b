//! Scenario tests: the tradewire client over real sockets on 127.0.0.1, against the testkit
//! and against servers nobody on this team wrote. One behaviour per file.

mod support;

mod doc002_python_peer;
