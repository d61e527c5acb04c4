"""Helpers of scripts/check_deploy.sh for the manifests in deploy/k8s (no cluster needed).

    metrics OUT.json                  every series name the server exports, with its labels (run with the
                                      project's venv: imports verifier.metrics)
    kustomizations DIR                every kustomization under DIR: its resources, components and patches
                                      exist; prints the files that are whole objects (resources)
    rules MANIFEST TESTS OUT          a PrometheusRule's spec.groups as a plain rule file for promtool,
                                      after checking that TESTS has a firing and a quiet case per alert
    split OUT_BUILTIN OUT_CRD FILE..  rendered manifests: Kubernetes' own kinds to one YAML stream, the
                                      Prometheus Operator's (ServiceMonitor, PrometheusRule) to JSON
    policy VARIANT METRICS RENDERED   what the schemas cannot see (VARIANT gpu, cpu or base): grace and
             ADAPTER_RULES            probe timings, hardening, the GPU limit, the headless Service,
                                      selectors and ports that meet, and that every metric and label the
                                      alerts, the HPA and the adapter rule name exists

Everything but `metrics` runs with an interpreter that has PyYAML (the tool venv of check_deploy.sh).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

CRD_GROUPS = ("monitoring.coreos.com/",)
# Labels a Prometheus Operator scrape adds to every series (the ServiceMonitor's podTargetLabels
# included), and those PromQL itself makes.
TARGET_LABELS = {
    "namespace",
    "pod",
    "job",
    "instance",
    "service",
    "endpoint",
    "container",
    "verifier_accelerator",
}
Series = dict[str, list[str] | None]  # series name: its labels (None: any)
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}


def _yaml() -> Any:
    import yaml

    return yaml


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [d for d in _yaml().safe_load_all(path.read_text()) if d]


# ------------------------------------------------------------------------------------------ metrics
def cmd_metrics(out: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the checkout's verifier, installed or not
    from prometheus_client.metrics import MetricWrapperBase

    from verifier.metrics import Metrics

    suffixes = {
        "counter": ("_total",),
        "gauge": ("",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
        "info": ("_info",),
    }
    series: dict[str, list[str] | None] = {}
    for metric in vars(Metrics()).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        for suffix in suffixes[metric._type]:
            labels: list[str] | None = list(metric._labelnames) + (["le"] if suffix == "_bucket" else [])
            if metric._type == "info":
                labels = None  # an Info's labels are its values' keys: any
            series[metric._name + suffix] = labels
    Path(out).write_text(json.dumps(series, indent=1, sort_keys=True))


# ----------------------------------------------------------------------------------- kustomizations
def cmd_kustomizations(root: str) -> None:
    errors: list[str] = []
    objects: list[Path] = []
    for kfile in sorted(Path(root).rglob("kustomization.yaml")):
        doc = _yaml().safe_load(kfile.read_text()) or {}
        here = kfile.parent
        entries = [("resources", r) for r in doc.get("resources", [])]
        entries += [("components", c) for c in doc.get("components", [])]
        entries += [("patches", p["path"]) for p in doc.get("patches", []) if "path" in p]
        if not entries:
            errors.append(f"{kfile}: no resources, components or patches")
        for field, ref in entries:
            target = (here / ref).resolve()
            if field in ("resources", "components") and target.is_dir():
                if not (target / "kustomization.yaml").is_file():
                    errors.append(f"{kfile}: {field} {ref}: a directory without kustomization.yaml")
            elif not target.is_file():
                errors.append(f"{kfile}: {field} {ref}: no such file")
            elif field == "resources":
                objects.append(target)
    for err in errors:
        print(f"check_deploy: {err}", file=sys.stderr)
    if errors:
        sys.exit(1)
    for path in sorted(set(objects)):
        print(path)


# -------------------------------------------------------------------------------------------- rules
def cmd_rules(manifest: str, tests: str, out: str) -> None:
    """Also: every alert has a promtool test where it fires and one where it does not."""
    (rule,) = [d for d in _load_all(Path(manifest)) if d.get("kind") == "PrometheusRule"]
    groups = rule["spec"]["groups"]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    fires: set[str] = set()
    quiet: set[str] = set()
    for test in _yaml().safe_load(Path(tests).read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
    missing = sorted(f"{a} (firing)" for a in alerts - fires) + sorted(
        f"{a} (not firing)" for a in alerts - quiet
    )
    if missing:
        raise SystemExit(f"check_deploy: {tests} has no test of {', '.join(missing)}")
    Path(out).write_text(_yaml().safe_dump({"groups": groups}, sort_keys=False, width=1 << 16))


# -------------------------------------------------------------------------------------------- split
def cmd_split(out_builtin: str, out_crd: str, files: list[str]) -> None:
    builtin: list[dict[str, Any]] = []
    crd: list[dict[str, Any]] = []
    for name in files:
        for doc in _load_all(Path(name)):
            (crd if str(doc.get("apiVersion", "")).startswith(CRD_GROUPS) else builtin).append(doc)
    Path(out_builtin).write_text(_yaml().safe_dump_all(builtin, sort_keys=False))
    Path(out_crd).write_text(json.dumps(crd))
    print(f"{len(builtin)} objects of Kubernetes' own kinds, {len(crd)} of the Prometheus Operator's")


# ------------------------------------------------------------------------------------------- policy
class Findings:
    def __init__(self, variant: str) -> None:
        self.variant = variant
        self.errors: list[str] = []

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.errors.append(f"{self.variant}: {message}")


def _one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        raise SystemExit(f"check_deploy: expected one {kind} {name or ''}, found {len(found)}")
    return found[0]


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _promql_uses(expr: str, series: dict[str, list[str] | None]) -> list[str]:
    """Metric names not exported, label matchers a metric lacks, grouping labels no operand has."""
    problems: list[str] = []
    known: set[str] = set(TARGET_LABELS)
    for name, braces in re.findall(r"\b(verifier_[a-z0-9_]+)\s*(\{[^}]*\})?", expr):
        if name not in series:
            problems.append(f"metric {name} is not exported by verifier/metrics.py")
            continue
        labels = series[name]
        if labels is None:
            continue
        known |= set(labels)
        for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", braces):
            if label not in labels and label not in TARGET_LABELS:
                problems.append(f"{name} has no label {label}")
    for clause in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", expr):
        for label in (s.strip() for s in clause.split(",")):
            if label and label not in known and label not in PROMQL_WORDS:
                problems.append(f"grouping label {label} is on none of the series")
    return problems


class Server:
    """The verifier Deployment of a rendered variant, and the parts of it the checks read."""

    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.deploy = _one(docs, "Deployment", "verifier")
        template = self.deploy["spec"]["template"]
        self.spec: dict[str, Any] = template["spec"]
        (self.container,) = [c for c in self.spec["containers"] if c["name"] == "verifier"]
        self.env = _env(self.container)
        self.ports: dict[str, int] = {p["name"]: p["containerPort"] for p in self.container["ports"]}
        self.pod_labels: dict[str, str] = template["metadata"]["labels"]


def _check_server(f: Findings, docs: list[dict[str, Any]], srv: Server) -> None:
    """Ports, the kill timer against the drain time, probes, the TLS Secret."""
    spec, container, env, ports = srv.spec, srv.container, srv.env, srv.ports
    # Shutdown: the pod's kill timer is longer than the server's own drain.
    grace = float(env.get("VERIFIER_GRACE", "30"))
    f.check(
        spec.get("terminationGracePeriodSeconds", 30) > grace,
        f"terminationGracePeriodSeconds {spec.get('terminationGracePeriodSeconds')} is not above --grace {grace}",
    )
    f.check(
        ports.get("grpc") == int(env.get("VERIFIER_PORT", "50051")), "container port grpc != VERIFIER_PORT"
    )
    f.check(
        ports.get("metrics") == int(env.get("VERIFIER_METRICS_PORT", "9464")),
        "container port metrics != VERIFIER_METRICS_PORT",
    )

    # Probes: every one asks grpc.health.v1 (the kubelet's grpc probe on the gRPC port, or `verifier
    # health`, which reads the same settings as the server), the startup one for 10 minutes.
    tls = "VERIFIER_TLS_CERT" in env
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container.get(kind)
        f.check(probe is not None, f"no {kind}")
        if probe is None:
            continue
        if tls:
            cmd = probe.get("exec", {}).get("command", [])
            f.check(cmd[:2] == ["verifier", "health"], f"{kind}: with TLS, an exec probe `verifier health`")
            f.check("grpc" not in probe, f"{kind}: the kubelet's grpc probe cannot speak TLS")
        else:
            grpc = probe.get("grpc", {})
            f.check(grpc.get("port") == ports.get("grpc"), f"{kind}: not a grpc probe on the gRPC port")
            f.check(grpc.get("service") == "verifier.v1.Verifier", f"{kind}: service verifier.v1.Verifier")
    startup = container.get("startupProbe") or {}
    budget = startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
    f.check(budget >= 600, f"startupProbe allows {budget} s, less than 10 minutes for kernel compilation")
    if tls:
        mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
        secrets = {v["name"]: v["secret"]["secretName"] for v in spec.get("volumes", []) if "secret" in v}
        f.check(bool(secrets), "TLS without a Secret volume")
        for var in ("VERIFIER_TLS_CERT", "VERIFIER_TLS_KEY", "VERIFIER_TLS_CLIENT_CA"):
            path = env.get(var, "")
            f.check(
                any(path.startswith(mounts.get(n, "?") + "/") for n in secrets), f"{var} not in the Secret"
            )
        names = [e["name"] for e in container["env"]]
        if "$(POD_NAMESPACE)" in env.get("VERIFIER_HEALTH_TLS_SERVER_NAME", ""):
            f.check(
                "POD_NAMESPACE" in names
                and names.index("POD_NAMESPACE") < names.index("VERIFIER_HEALTH_TLS_SERVER_NAME"),
                "VERIFIER_HEALTH_TLS_SERVER_NAME refers to POD_NAMESPACE before it is defined",
            )
    f.check(not [d for d in docs if d["kind"] == "Secret"], "a Secret is shipped: keys never are")


def _check_hardening(f: Findings, srv: Server) -> None:
    """Non-root, read-only root, no privilege; writable emptyDirs where the server writes."""
    spec, container, env = srv.spec, srv.container, srv.env
    psc = spec.get("securityContext", {})
    f.check(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
    f.check(
        psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile RuntimeDefault"
    )
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        f.check(sc.get("readOnlyRootFilesystem") is True, f"{c['name']}: readOnlyRootFilesystem")
        f.check(sc.get("allowPrivilegeEscalation") is False, f"{c['name']}: allowPrivilegeEscalation false")
        f.check(sc.get("capabilities", {}).get("drop") == ["ALL"], f"{c['name']}: capabilities drop ALL")
    empty = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
    writable = {m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in empty}
    for path in (env.get("VERIFIER_CACHE_DIR", "/var/cache/verifier"), "/tmp"):
        f.check(path in writable, f"{path} is not an emptyDir (the root filesystem is read-only)")


def _check_variant(f: Findings, srv: Server) -> None:
    """A GPU for the GPU variant only, and the pod label the self-test alert reads."""
    container, pod_labels = srv.container, srv.pod_labels
    gpus = container.get("resources", {}).get("limits", {}).get("nvidia.com/gpu")
    accel = pod_labels.get("verifier-accelerator")
    if f.variant == "gpu":
        f.check(str(gpus) == "1", f"nvidia.com/gpu limit {gpus}, want 1")
        f.check(accel == "gpu", "pod label verifier-accelerator=gpu (the self-test alert reads it)")
    else:
        f.check(gpus is None, "a CPU variant asks for a GPU")
        f.check(accel == "cpu", "pod label verifier-accelerator=cpu")


def _check_objects(f: Findings, docs: list[dict[str, Any]], srv: Server) -> None:
    """Services, ServiceMonitor, PDB, NetworkPolicy: selectors that select, ports that exist."""
    ports, pod_labels = srv.ports, srv.pod_labels
    headless = _one(docs, "Service", "verifier-headless")
    f.check(headless["spec"].get("clusterIP") == "None", "verifier-headless is not headless")
    msvc = _one(docs, "Service", "verifier-metrics")
    for svc in (headless, msvc):
        name = svc["metadata"]["name"]
        f.check(_matches(svc["spec"]["selector"], pod_labels), f"Service {name} selects no verifier pod")
        for p in svc["spec"]["ports"]:
            f.check(
                p["targetPort"] in ports, f"Service {name}: targetPort {p['targetPort']} is no container port"
            )
    smon = _one(docs, "ServiceMonitor")
    f.check(
        _matches(smon["spec"]["selector"]["matchLabels"], msvc["metadata"]["labels"]),
        "ServiceMonitor does not select verifier-metrics",
    )
    f.check(
        not _matches(smon["spec"]["selector"]["matchLabels"], headless["metadata"]["labels"]),
        "ServiceMonitor selects the headless Service too (every pod scraped twice)",
    )
    f.check(
        {e["port"] for e in smon["spec"]["endpoints"]} <= {p["name"] for p in msvc["spec"]["ports"]},
        "ServiceMonitor endpoint port not on verifier-metrics",
    )
    f.check(
        "verifier-accelerator" in smon["spec"].get("podTargetLabels", []),
        "ServiceMonitor podTargetLabels lacks verifier-accelerator (the self-test alert reads it)",
    )
    pdb = _one(docs, "PodDisruptionBudget")
    f.check(
        _matches(pdb["spec"]["selector"]["matchLabels"], pod_labels), "PodDisruptionBudget selects no pod"
    )
    netpol = _one(docs, "NetworkPolicy")
    f.check(
        _matches(netpol["spec"]["podSelector"]["matchLabels"], pod_labels), "NetworkPolicy selects no pod"
    )
    allowed = {p["port"] for rule in netpol["spec"].get("ingress", []) for p in rule.get("ports", [])}
    f.check(
        allowed == {"grpc", "metrics"},
        f"NetworkPolicy ingress ports {sorted(allowed)}, want grpc and metrics",
    )


def _check_autoscaling(
    f: Findings, docs: list[dict[str, Any]], srv: Server, series: Series, adapter_rules: str
) -> None:
    """The HPA and the prometheus-adapter rule: one metric, exported by the server."""
    deploy = srv.deploy
    hpa = _one(docs, "HorizontalPodAutoscaler")
    f.check(
        hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"], "HPA scales another Deployment"
    )
    f.check("replicas" not in deploy["spec"], "Deployment sets replicas, which the HPA owns")
    hpa_metrics = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    f.check(hpa_metrics == ["verifier_queue_depth_items"], f"HPA Pods metrics {hpa_metrics}")
    rules = _yaml().safe_load(Path(adapter_rules).read_text())["rules"]
    served = {r["name"]["as"] for r in rules}
    for rule in rules:
        for p in _promql_uses(rule["seriesQuery"], series):
            f.check(False, f"adapter rule: {p}")
        f.check(
            set(rule["resources"]["overrides"]) == {"namespace", "pod"}, "adapter rule maps namespace and pod"
        )
    for name in hpa_metrics:
        f.check(name in served, f"HPA metric {name} is served by no prometheus-adapter rule")


def _check_alerts(f: Findings, docs: list[dict[str, Any]], srv: Server, series: Series) -> None:
    """Every alert there, its metrics and labels exported; the queue threshold is the capacity."""
    env = srv.env
    prule = _one(docs, "PrometheusRule")
    alerts = {r["alert"]: r for g in prule["spec"]["groups"] for r in g["rules"] if "alert" in r}
    want = {
        "VerifierDeviceUnhealthy",
        "VerifierCPUFallbacksRising",
        "VerifierQueueNearCapacity",
        "VerifierLatencyP99High",
        "VerifierSelfTestFailed",
    }
    f.check(want <= set(alerts), f"alerts missing: {sorted(want - set(alerts))}")
    for name, rule in alerts.items():
        for p in _promql_uses(rule["expr"], series):
            f.check(False, f"alert {name}: {p}")
        f.check(rule.get("labels", {}).get("severity") in ("warning", "critical"), f"alert {name}: severity")
    capacity = env.get("VERIFIER_QUEUE_CAPACITY_ITEMS", "4194304")
    queue = alerts.get("VerifierQueueNearCapacity", {})
    f.check(
        re.search(rf"\*\s*{capacity}\b", queue.get("expr", "")) is not None
        and capacity in queue.get("annotations", {}).get("description", ""),
        f"VerifierQueueNearCapacity does not compare with VERIFIER_QUEUE_CAPACITY_ITEMS {capacity}",
    )


def cmd_policy(variant: str, metrics_json: str, rendered: str, adapter_rules: str) -> None:
    series: Series = json.loads(Path(metrics_json).read_text())
    docs = _load_all(Path(rendered))
    f = Findings(variant)
    srv = Server(docs)
    _check_server(f, docs, srv)
    _check_hardening(f, srv)
    _check_variant(f, srv)
    _check_objects(f, docs, srv)
    _check_autoscaling(f, docs, srv, series, adapter_rules)
    _check_alerts(f, docs, srv, series)
    for err in f.errors:
        print(f"check_deploy: {err}", file=sys.stderr)
    if f.errors:
        sys.exit(1)
    print(f"{variant}: policy checks passed")


def main(argv: list[str]) -> None:
    commands = {
        "metrics": (cmd_metrics, 1),
        "kustomizations": (cmd_kustomizations, 1),
        "rules": (cmd_rules, 3),
        "policy": (cmd_policy, 4),
    }
    if argv and argv[0] == "split" and len(argv) >= 4:
        cmd_split(argv[1], argv[2], argv[3:])
        return
    if not argv or argv[0] not in commands or len(argv) - 1 != commands[argv[0]][1]:
        raise SystemExit(__doc__)
    func, _ = commands[argv[0]]
    func(*argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
