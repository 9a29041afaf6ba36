//! PiWardrive, the appliance: capture sources, the tracker, the store, the web UI and the command line's building blocks.

pub mod accounts;
pub mod appliance;
pub mod capture;
pub mod clock;
pub mod config;
pub mod demo;
pub mod export;
pub mod gps;
pub mod hub;
pub mod ingest;
pub mod model;
pub mod replication;
pub mod report;
pub mod store;
pub mod synth;
pub mod system;
pub mod tracker;
pub mod upstream;
pub mod web;
pub mod wigle;

pub use piwardrive_dot11 as dot11;
