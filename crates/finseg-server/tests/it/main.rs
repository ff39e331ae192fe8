//! HTTP-level tests of the finseg service; every test runs on SQLite and on PostgreSQL.

mod helpers;

mod accounts;
mod auth;
mod callbacks;
mod contract;
mod import;
mod jobs;
mod labels;
mod operations;
mod robustness;
mod segment_index;
mod segments;
mod statements;
mod tenancy;
mod transactions;
mod users;
