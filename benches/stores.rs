//! The stores under load: the embedded store holding a million waiting
//! gates, and one approval through the service on each store.
//!
//! ```text
//! cargo bench --bench stores
//! APPROVAL_GATE_POSTGRES="host=/tmp/pg port=5432 user=postgres dbname=postgres" \
//!     cargo bench --bench stores --features postgres
//! ```
//!
//! Memory per waiting gate is read from the process's resident set before
//! and after the million gates are opened, and printed with the results.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benches fail loudly"
)]
#![allow(clippy::disallowed_methods, reason = "a bench times what it measures with the wall clock")]

use approval_gate::gate::{Hold, Notification};
use approval_gate::memory::MemoryStore;
use approval_gate::policy::Policy;
use approval_gate::ports::{Notifier, NotifyError, Store};
use approval_gate::service::Approvals;
use approval_gate::sql::SqliteStore;
use approval_gate::{Approve, GateId, Principal, PrincipalId, Run};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

const MILLION: u64 = 1_000_000;
const ENDED_PER_TICK: u64 = 1_000;

fn at(seconds: u64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap() + TimeDelta::seconds(seconds as i64)
}

/// Two rules and a one-hour timeout: the shape of a typical production gate.
fn policy() -> Policy {
    let json = r#"{"rules": [{"name": "sre", "required": 2, "approvers": [{"group": "sre"}]},
                             {"name": "dba", "required": 1, "approvers": [{"group": "dba"}]}],
                   "timeout": {"after": "1h"}}"#;
    Policy::new(serde_json::from_str(json).unwrap()).unwrap()
}

/// Delivers into the void, as a host whose notifications always go out.
struct Sent;

impl Notifier for Sent {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        black_box(notification);
        Ok(())
    }
    fn hold(&self, hold: &Hold) -> Result<(), NotifyError> {
        black_box(hold);
        Ok(())
    }
}

/// Gate `index` opens at second `index`, so its one-hour deadline falls a
/// second after the previous gate's.
fn open<S: Store>(approvals: &Approvals<S, Sent>, policy: &Policy, index: u64) {
    let id = GateId::new(format!("gate-{index:07}")).unwrap();
    let mut run = Run::new(PrincipalId::new("deployer").unwrap());
    run.project = Some("web".into());
    run.environment = Some("prod".into());
    approvals.open(id, policy.clone(), run, at(index)).map_err(|e| e.to_string()).unwrap();
}

/// The process's resident memory, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    statm.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

fn million_waiting_gates(c: &mut Criterion) {
    let policy = policy();
    let approvals = Approvals::new(MemoryStore::new(), Sent);
    let before = resident();
    for index in 0..MILLION {
        open(&approvals, &policy, index);
    }
    let per_gate = (resident() - before) as f64 / MILLION as f64;
    eprintln!("MemoryStore: {MILLION} waiting gates, {per_gate:.0} bytes of resident memory per waiting gate");
    // Tick `k` ends gates k*1000 .. k*1000+999; each tick is followed,
    // untimed, by a thousand new gates, so a million always wait.
    let mut next_tick = 0;
    let mut next_gate = MILLION;
    let mut group = c.benchmark_group("MemoryStore with 1,000,000 waiting gates");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("tick that ends 1,000 of them", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                let deadline = at((next_tick + 1) * ENDED_PER_TICK - 1) + TimeDelta::hours(1);
                let started = Instant::now();
                let ended = approvals.tick(deadline).unwrap();
                timed += started.elapsed();
                assert_eq!(ended.len() as u64, ENDED_PER_TICK);
                next_tick += 1;
                for _ in 0..ENDED_PER_TICK {
                    open(&approvals, &policy, next_gate);
                    next_gate += 1;
                }
            }
            timed
        })
    });
    group.finish();
    assert_eq!(approvals.store().gate_count().unwrap() as u64, next_gate);
}

/// One approval through the service: load, replay, decide, append with the
/// expected version, deliver. Each is on a freshly opened gate (opened
/// untimed), which stays waiting for its other approvers.
fn approve_through<S: Store>(c: &mut Criterion, name: &str, store: S) {
    let approvals = Approvals::new(store, Sent);
    let policy = policy();
    let ann = Principal::user("ann").unwrap().with_groups(["sre"]);
    let mut next = 0;
    c.benchmark_group("service approve").bench_function(name, |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                open(&approvals, &policy, next);
                let id = GateId::new(format!("gate-{next:07}")).unwrap();
                let started = Instant::now();
                black_box(
                    approvals.approve(&id, Approve::by(ann.clone()), at(next + 60)).map_err(|e| e.to_string()).unwrap(),
                );
                timed += started.elapsed();
                next += 1;
            }
            timed
        })
    });
}

fn service_approve(c: &mut Criterion) {
    approve_through(c, "MemoryStore", MemoryStore::new());
    let path = std::env::temp_dir().join(format!("approval-gate-bench-{}.sqlite", std::process::id()));
    approve_through(c, "SqliteStore (WAL, synchronous=NORMAL)", SqliteStore::open(&path).unwrap());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    #[cfg(feature = "postgres")]
    match std::env::var("APPROVAL_GATE_POSTGRES") {
        Ok(config) => {
            let schema = format!("bench_{}", std::process::id());
            let store = approval_gate::sql::PostgresStore::connect(&config, &schema).unwrap();
            approve_through(c, "PostgresStore (unix socket)", store);
        }
        Err(_) => eprintln!("PostgresStore not measured: set APPROVAL_GATE_POSTGRES (see .ci/postgres)"),
    }
}

criterion_group!(stores, million_waiting_gates, service_approve);
criterion_main!(stores);
