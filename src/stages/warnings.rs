//! Warnings a plan prints before anything runs: settings that are valid but do not do what their names promise.

use super::names::method_name;
use super::prune::uses_admm;
use crate::experiment::load::GridPoint;

/// One warning per (method, round count) of the points that train ADMM for fewer than two rounds: the dual U is
/// computed after the last W-step and never used, so no dual step ever acts.
pub(crate) fn admm_round_warnings(points: &[GridPoint]) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    for point in points.iter().filter(|p| uses_admm(p.spec.method) && p.spec.admm.rounds < 2) {
        let (method, rounds) = (method_name(point.spec.method), point.spec.admm.rounds);
        let warning = format!(
            "key `admm.rounds`: {rounds} with method {method}: the dual step never acts (U is updated after the last \
             W-step and never used), so this is a penalty pull towards one projection, not ADMM; gohsp-one-shot is \
             the single-projection method (hint: set admm.rounds to 2 or more, e.g. 5)"
        );
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::types::{AdmmSpec, Method, Spec};

    fn point(method: Method, rounds: usize) -> GridPoint {
        let spec = Spec { method, admm: AdmmSpec { rounds, ..AdmmSpec::default() }, ..Spec::default() };
        GridPoint { name: "p".into(), axes: vec![], spec }
    }

    #[test]
    fn fewer_than_two_rounds_of_an_admm_method_are_named_once() {
        let points = [point(Method::Gohsp, 1), point(Method::Gohsp, 1), point(Method::Magnitude, 1)];
        let warnings = admm_round_warnings(&points);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("key `admm.rounds`: 1 with method gohsp: the dual step never acts"));
        assert!(warnings[0].contains("gohsp-one-shot is the single-projection method"));
        assert!(admm_round_warnings(&[point(Method::Gohsp, 2), point(Method::GohspOneShot, 0)]).is_empty());
        assert_eq!(admm_round_warnings(&[point(Method::GohspMagnitudeHeads, 0)]).len(), 1);
    }
}
