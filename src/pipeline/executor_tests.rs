//! Tests of the executor with mock stages: hits, reruns, corruption, concurrency, failures, forcing.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::error::GohspError;
use crate::pipeline::dag::NodeId;
use crate::pipeline::explain::explain;
use crate::pipeline::mock_stage::{MockStage, Rendezvous};
use crate::pipeline::stage::{Stage, StageContext};

/// pretrain -> rank -> finetune, with `finetune` params as given.
struct Chain {
    plan: Plan,
    stages: Vec<Arc<MockStage>>,
}

fn chain(finetune: Value) -> Chain {
    slow_chain(finetune, 0)
}

/// `chain`, with every stage sleeping `ms` milliseconds.
fn slow_chain(finetune: Value, ms: u64) -> Chain {
    let stages: Vec<Arc<MockStage>> = [
        (StageKind::Pretrain, "pretrain", json!({"epochs": 2})),
        (StageKind::Rank, "rank", json!({"damping": 0.85})),
        (StageKind::Finetune, "finetune", finetune),
    ]
    .into_iter()
    .map(|(kind, label, params)| Arc::new(MockStage::new(kind, label, params).slow(ms)))
    .collect();
    let mut plan = Plan::new();
    let mut previous: Vec<NodeId> = vec![];
    for stage in &stages {
        previous = vec![plan.add(stage.clone(), &previous, "fp")];
    }
    Chain { plan, stages }
}

fn runs(chain: &Chain) -> Vec<usize> {
    chain.stages.iter().map(|stage| stage.runs()).collect()
}

fn statuses(summary: &RunSummary) -> Vec<String> {
    summary.nodes.iter().map(|node| node.status.to_string()).collect()
}

fn cache() -> (tempfile::TempDir, Cache) {
    let root = tempfile::tempdir().unwrap();
    let cache = Cache::open(root.path()).unwrap();
    (root, cache)
}

#[test]
fn a_second_execution_of_the_same_plan_runs_nothing() {
    let (_root, cache) = cache();
    let chain = chain(json!({"lr": 1e-3}));
    let first = execute(&chain.plan, &cache, &ExecOptions::default()).unwrap();
    assert_eq!(statuses(&first), ["ran", "ran", "ran"]);
    let second = execute(&chain.plan, &cache, &ExecOptions::default()).unwrap();
    assert_eq!(statuses(&second), ["hit", "hit", "hit"]);
    assert_eq!(runs(&chain), [1, 1, 1]);
    assert!(!cache.work_dir(StageKind::Rank, &chain.plan.nodes()[1].key).exists(), "work dir removed after commit");
}

#[test]
fn changing_a_downstream_param_reruns_only_that_node_and_explain_names_it() {
    let (_root, cache) = cache();
    execute(&chain(json!({"lr": 1e-3, "distill": {"alpha": 0.5}})).plan, &cache, &ExecOptions::default()).unwrap();
    let changed = chain(json!({"lr": 1e-3, "distill": {"alpha": 0.7}}));
    let summary = execute(&changed.plan, &cache, &ExecOptions::default()).unwrap();
    assert_eq!(statuses(&summary), ["hit", "hit", "ran"]);
    assert_eq!(runs(&changed), [0, 0, 1]);
    let before = chain(json!({"lr": 1e-3, "distill": {"alpha": 0.9}}));
    let text = explain("finetune", &before.plan.nodes()[2].parts, &cache).unwrap().to_string();
    assert!(text.contains("distill.alpha: 0.7 -> 0.9"), "{text}");
}

#[test]
fn a_truncated_artifact_rebuilds_only_its_node() {
    let (_root, cache) = cache();
    let chain = chain(json!({"lr": 1e-3}));
    execute(&chain.plan, &cache, &ExecOptions::default()).unwrap();
    let rank = chain.plan.nodes()[1];
    let artifact = cache.entry_dir(StageKind::Rank, &rank.key).join("out.txt");
    std::fs::write(&artifact, b"cut").unwrap();
    let summary = execute(&chain.plan, &cache, &ExecOptions::default()).unwrap();
    assert_eq!(statuses(&summary), ["hit", "ran", "hit"]);
    assert_eq!(runs(&chain), [1, 2, 1]);
    assert!(std::fs::read_to_string(&artifact).unwrap().starts_with("rank"));
}

#[test]
fn two_threads_running_the_same_plan_build_each_node_once() {
    let (_root, cache) = cache();
    let chain = slow_chain(json!({"lr": 1e-3}), 40);
    let summaries: Vec<RunSummary> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..2).map(|_| scope.spawn(|| execute(&chain.plan, &cache, &ExecOptions::default()).unwrap())).collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    assert_eq!(runs(&chain), [1, 1, 1]);
    for summary in &summaries {
        assert!(summary.is_success(), "{summary:?}");
    }
    assert_eq!(summaries.iter().map(|s| s.ran().len()).sum::<usize>(), 3, "each node ran in exactly one thread");
}

/// Two branches from one parent: `bad` fails, `good` does not depend on it; `after` consumes `bad`.
fn branching(cache: &Cache, keep_going: bool) -> (RunSummary, Arc<MockStage>) {
    let good = MockStage::arc(StageKind::Rank, "good", json!({"n": 2}));
    let mut plan = Plan::new();
    let parent = plan.add(MockStage::arc(StageKind::Pretrain, "parent", json!({})), &[], "fp");
    let bad = plan.add(Arc::new(MockStage::new(StageKind::Rank, "bad", json!({"n": 1})).failing()), &[parent], "fp");
    plan.add(MockStage::arc(StageKind::Prune, "after", json!({})), &[bad], "fp");
    plan.add(good.clone(), &[parent], "fp");
    let summary = execute(&plan, cache, &ExecOptions { keep_going, ..ExecOptions::default() }).unwrap();
    let bad_key = &summary.get("bad").unwrap().key;
    assert!(!cache.entry_dir(StageKind::Rank, bad_key).exists(), "a failure leaves no entry");
    assert!(cache.work_dir(StageKind::Rank, bad_key).join("checkpoint").exists(), "the work dir stays for resume");
    (summary, good)
}

#[test]
fn a_failure_stops_everything_by_default_and_keep_going_runs_the_independent_branch() {
    let (_root, cache) = cache();
    let (fail_fast, good) = branching(&cache, false);
    assert!(matches!(fail_fast.get("bad").unwrap().status, RunStatus::Failed(ref m) if m.contains("mock failure")));
    assert_eq!(fail_fast.get("good").unwrap().status, RunStatus::Skipped);
    assert_eq!(fail_fast.get("after").unwrap().status, RunStatus::Skipped);
    assert_eq!((good.runs(), fail_fast.exit_code()), (0, 1));
    let (keep_going, good) = branching(&cache, true);
    assert_eq!(keep_going.get("good").unwrap().status, RunStatus::Ran);
    assert_eq!(keep_going.get("after").unwrap().status, RunStatus::Skipped);
    assert_eq!(good.runs(), 1);
    assert_eq!(std::fs::read_dir(cache.tmp_dir()).unwrap().count(), 0, "failed temp dirs removed");
}

/// Two independent nodes that each wait for the other at a rendezvous: they finish only when they run at once.
fn meeting_pair(timeout: Duration) -> Plan {
    let rendezvous = Rendezvous::new(2, timeout);
    let mut plan = Plan::new();
    for n in 0..2 {
        let stage = MockStage::new(StageKind::Pretrain, &format!("meet{n}"), json!({ "n": n }));
        plan.add(Arc::new(stage.meeting(rendezvous.clone())), &[], "fp");
    }
    plan
}

#[test]
fn two_jobs_run_independent_nodes_concurrently() {
    let (_root, cache) = cache();
    // A generous timeout: it only bounds how long a broken executor makes this test hang before failing.
    let summary =
        execute(&meeting_pair(Duration::from_secs(30)), &cache, &ExecOptions { jobs: 2, ..Default::default() });
    assert_eq!(summary.unwrap().ran().len(), 2, "both nodes met at the rendezvous");
    // One job runs them one after the other: the first waits in vain, so the rendezvous can tell the difference.
    let (_root, cache) = self::cache();
    let serial =
        execute(&meeting_pair(Duration::from_millis(50)), &cache, &ExecOptions { jobs: 1, ..Default::default() });
    assert!(!serial.unwrap().is_success(), "one job cannot run both at once");
}

#[test]
fn forcing_a_kind_reruns_it_and_everything_downstream_but_not_upstream() {
    let (_root, cache) = cache();
    let chain = chain(json!({"lr": 1e-3}));
    execute(&chain.plan, &cache, &ExecOptions::default()).unwrap();
    let forced = ExecOptions { force: vec![StageKind::Rank], ..ExecOptions::default() };
    let summary = execute(&chain.plan, &cache, &forced).unwrap();
    assert_eq!(statuses(&summary), ["hit", "ran", "ran"]);
    assert_eq!(runs(&chain), [1, 2, 2]);
    let dry = execute(&chain.plan, &cache, &ExecOptions { dry_run: true, ..forced }).unwrap();
    assert_eq!(statuses(&dry), ["hit", "would run", "would run"]);
    assert_eq!(runs(&chain), [1, 2, 2], "a dry run runs nothing");
}

/// A report stage running `body`.
struct FnStage(fn(&StageContext) -> Result<()>);

impl Stage for FnStage {
    fn kind(&self) -> StageKind {
        StageKind::Report
    }
    fn label(&self) -> String {
        "report".into()
    }
    fn params(&self) -> Value {
        json!({})
    }
    fn run(&self, ctx: &StageContext) -> Result<()> {
        (self.0)(ctx)
    }
}

fn run_one(body: fn(&StageContext) -> Result<()>) -> RunSummary {
    let (_root, cache) = cache();
    let mut plan = Plan::new();
    plan.add(Arc::new(FnStage(body)), &[], "fp");
    execute(&plan, &cache, &ExecOptions { jobs: 2, ..ExecOptions::default() }).unwrap()
}

#[test]
fn a_panicking_stage_is_a_failure_not_a_crash() {
    let summary = run_one(|_| panic!("bug in report"));
    assert!(matches!(&summary.nodes[0].status, RunStatus::Failed(m) if m.contains("bug in report")));
    assert_eq!(summary.exit_code(), 1);
}

#[test]
fn a_users_mistake_inside_a_stage_calls_for_exit_code_2() {
    let summary = run_one(|_| Err(GohspError::input("w.safetensors", "no such file", "check model.weights")));
    assert!(matches!(&summary.nodes[0].status, RunStatus::Failed(m) if m.contains("w.safetensors")));
    assert_eq!(summary.exit_code(), 2);
}
