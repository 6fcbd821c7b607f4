//! Executes a plan in topological order with `jobs` workers: hits are skipped, misses built, failures contained.
//!
//! `--force KIND` reruns every node of that kind and, transitively, every node downstream of a forced rerun
//! (their keys did not change, but their inputs' artifacts were just rebuilt). A node that ran because of a plain
//! miss does not force its dependants: their keys already follow their inputs' keys.
//! Fail-fast (the default) starts no new node after the first failure; `keep_going` runs every node not
//! downstream of a failure. Nodes not run are `Skipped`.

use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::cache::Cache;
use super::dag::{Plan, PlanNode};
use super::node_run::{BuildResult, build_node};
use super::progress::NodeProgress;
use super::stage::StageKind;
use super::summary::{RunLine, RunStatus, RunSummary};
use crate::error::Result;

/// How to execute a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExecOptions {
    /// How many nodes may run at once (at least 1).
    pub jobs: usize,
    /// Run every node not downstream of a failure instead of stopping at the first.
    pub keep_going: bool,
    /// Kinds whose nodes rerun even when cached (with everything downstream of them).
    pub force: Vec<StageKind>,
    /// Look up every node but run none (misses are `WouldRun`).
    pub dry_run: bool,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self { jobs: 1, keep_going: false, force: Vec::new(), dry_run: false }
    }
}

/// Where one node stands during an execution.
#[derive(Debug, Clone)]
enum Slot {
    Waiting,
    Running,
    Done { result: BuildResult, wall_s: f64, forced: bool },
}

/// The shared scheduling state: one slot per node (indexed by node index), in topological order.
struct Schedule<'p> {
    order: Vec<&'p PlanNode>,
    slots: Vec<Slot>,
    running: usize,
    stopped: bool,
}

/// A node a worker may start, and whether it is forced.
struct Ready<'p> {
    node: &'p PlanNode,
    forced: bool,
}

impl<'p> Schedule<'p> {
    /// The next node whose inputs are all done and good; nodes downstream of a failure become `Skipped` on the way.
    fn next_ready(&mut self, opts: &ExecOptions) -> Option<Ready<'p>> {
        for position in 0..self.order.len() {
            let node = self.order[position];
            if !matches!(self.slots[node.id.index()], Slot::Waiting) || self.stopped {
                continue;
            }
            let inputs: Vec<&Slot> = node.inputs.iter().map(|id| &self.slots[id.index()]).collect();
            if inputs.iter().any(|slot| matches!(slot, Slot::Done { result, .. } if !is_good(&result.status))) {
                let skipped = BuildResult { status: RunStatus::Skipped, exit_code: 0 };
                self.slots[node.id.index()] = Slot::Done { result: skipped, wall_s: 0.0, forced: false };
            } else if inputs.iter().all(|slot| matches!(slot, Slot::Done { .. })) {
                let input_forced = inputs.iter().any(|slot| matches!(slot, Slot::Done { forced: true, .. }));
                self.slots[node.id.index()] = Slot::Running;
                self.running += 1;
                return Some(Ready { node, forced: input_forced || opts.force.contains(&node.kind()) });
            }
        }
        None
    }

    /// Records a finished node.
    fn finish(&mut self, ready: &Ready<'p>, result: BuildResult, wall_s: f64, opts: &ExecOptions) {
        self.running -= 1;
        if matches!(result.status, RunStatus::Failed(_)) && !opts.keep_going {
            self.stopped = true;
        }
        let forced = ready.forced && is_good(&result.status);
        self.slots[ready.node.id.index()] = Slot::Done { result, wall_s, forced };
    }
}

/// Whether dependants may proceed after a node with this status.
fn is_good(status: &RunStatus) -> bool {
    matches!(status, RunStatus::Hit | RunStatus::Ran | RunStatus::WouldRun)
}

/// Executes `plan` against `cache`. Stage failures are reported in the summary, not as an `Err`.
pub(crate) fn execute(plan: &Plan, cache: &Cache, opts: &ExecOptions) -> Result<RunSummary> {
    let order = plan.nodes();
    let schedule = Schedule { slots: vec![Slot::Waiting; order.len()], order, running: 0, stopped: false };
    let shared = (Mutex::new(schedule), Condvar::new());
    let progress = NodeProgress::new(plan.len());
    let worker = || work(plan, cache, opts, &shared, &progress);
    if opts.jobs <= 1 {
        worker();
    } else {
        std::thread::scope(|scope| {
            for _ in 0..opts.jobs {
                scope.spawn(worker);
            }
        });
    }
    progress.finish();
    let schedule = shared.0.into_inner().expect("workers never panic while holding the schedule");
    Ok(summarise(&schedule))
}

/// One worker: takes ready nodes until none is left or can become ready.
fn work(
    plan: &Plan,
    cache: &Cache,
    opts: &ExecOptions,
    shared: &(Mutex<Schedule<'_>>, Condvar),
    progress: &NodeProgress,
) {
    let (mutex, ready_changed) = shared;
    loop {
        let mut schedule = mutex.lock().expect("schedule lock");
        let ready = loop {
            if let Some(ready) = schedule.next_ready(opts) {
                break ready;
            }
            if schedule.running == 0 {
                ready_changed.notify_all();
                return;
            }
            schedule = ready_changed.wait(schedule).expect("schedule lock");
        };
        drop(schedule);
        let clock = Instant::now();
        let result = build_node(plan, cache, ready.node, ready.forced, opts.dry_run);
        progress.node_done(&ready.node.label);
        mutex.lock().expect("schedule lock").finish(&ready, result, clock.elapsed().as_secs_f64(), opts);
        ready_changed.notify_all();
    }
}

/// The outcomes in topological order; nodes never started are `Skipped`.
fn summarise(schedule: &Schedule<'_>) -> RunSummary {
    let outcome = |node: &PlanNode| {
        let (status, wall_s, exit_code) = match &schedule.slots[node.id.index()] {
            Slot::Done { result, wall_s, .. } => (result.status.clone(), *wall_s, result.exit_code),
            Slot::Waiting | Slot::Running => (RunStatus::Skipped, 0.0, 0),
        };
        RunLine { label: node.label.clone(), kind: node.kind(), key: node.key.clone(), status, wall_s, exit_code }
    };
    RunSummary { nodes: schedule.order.iter().map(|node| outcome(node)).collect() }
}

#[cfg(test)]
#[path = "executor_tests.rs"]
mod tests;
