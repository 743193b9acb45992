//! How a task ended: its one final state and the outcome reported for it.

use serde::{Deserialize, Serialize};

/// How a task ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FinalState {
    /// TASK_FINISHED: the command exited 0.
    Finished,
    /// TASK_FAILED: the command failed (never retried).
    Failed,
    /// TASK_KILLED (by `kill_after` or a KILL).
    Killed,
    /// TASK_ERROR: Mesos refused the task as invalid.
    Error,
    /// TASK_LOST after every retry.
    Lost,
    /// TASK_DROPPED after every retry.
    Dropped,
    /// TASK_GONE / TASK_GONE_BY_OPERATOR after every retry.
    Gone,
    /// No agent ever offered enough for it.
    Unschedulable,
    /// Never launched: the run was stopped first.
    Cancelled,
}

impl FinalState {
    /// Whether the task did what it was asked.
    pub fn is_success(self) -> bool {
        self == FinalState::Finished
    }

    /// The name shown in tables: Mesos's state name, or UNSCHEDULABLE.
    pub fn name(self) -> &'static str {
        match self {
            FinalState::Finished => "TASK_FINISHED",
            FinalState::Failed => "TASK_FAILED",
            FinalState::Killed => "TASK_KILLED",
            FinalState::Error => "TASK_ERROR",
            FinalState::Lost => "TASK_LOST",
            FinalState::Dropped => "TASK_DROPPED",
            FinalState::Gone => "TASK_GONE",
            FinalState::Unschedulable => "UNSCHEDULABLE",
            FinalState::Cancelled => "CANCELLED",
        }
    }
}

/// A task's one final result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The task id as submitted.
    pub task_id: String,
    /// Where its last attempt ran.
    pub agent: Option<String>,
    /// How it ended.
    pub state: FinalState,
    /// The exit status, when Mesos reports one ("Command exited with status N").
    pub exit_status: Option<i32>,
    /// Mesos's message (or packsim's, for unschedulable and kill-after).
    pub message: String,
    /// Mesos's reason name, if any.
    pub reason: Option<String>,
    /// Launch attempts made.
    pub attempts: u32,
    /// From the last launch to the final update, seconds (across adapter restarts).
    pub duration_s: Option<f64>,
    /// The ports of the last attempt (also in its environment as `PORT0`, ..., `PORTS`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u64>,
    /// The last attempt's sandbox, relative to its agent's work directory
    /// (`slaves/AGENT/frameworks/FRAMEWORK/executors/EXECUTOR/runs/CONTAINER`), once a status
    /// update named its executor and container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

/// The exit status in a command executor's message ("Command exited with status 3").
pub fn exit_status(message: &str) -> Option<i32> {
    let rest = message.split("exited with status ").nth(1)?;
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}
