#!/usr/bin/env python3
"""Offline validation of seghub's deployment files (no cluster, no Docker engine needed).

Checks a real subset of the Kubernetes and Compose schemas and, above all, that the files agree
with the code: every `seghub` flag and SEGHUB_* variable they use exists in the binary's
`--help` for that subcommand ($SEGHUB_BINARY, default build/seghub), every probe path is a route
of src/api/health_routes.cc, every metric in the Grafana dashboard and the prometheus-adapter
rules is registered somewhere in src/, and the pieces reference each other correctly
(selectors, ports, Services, HPA target, ConfigMap/Secret keys, volumes, depends_on, ...).

Exit 0 when everything holds; otherwise 1 with one line per problem. Needs PyYAML (Debian's
python3-yaml); when the running python3 lacks it, re-runs itself under /usr/bin/python3.
"""
import glob
import json
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:  # e.g. a pyenv python3 first on PATH; Debian's python3-yaml is system-wide
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("validate_deploy: PyYAML is missing: apt-get install python3-yaml")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
BINARY = os.environ.get("SEGHUB_BINARY", os.path.join(ROOT, "build", "seghub"))

errors = []


def err(where, msg):
    errors.append(f"{os.path.relpath(where, ROOT) if os.path.isabs(where) else where}: {msg}")


# ------------------------------------------------------------------------------------------
# Facts from the code

def source_metric_names():
    """Every "seghub_..." string literal in src/ (metric registrations and name constants)."""
    names = set()
    for path in glob.glob(os.path.join(ROOT, "src", "**", "*.cc"), recursive=True) + glob.glob(
            os.path.join(ROOT, "src", "**", "*.h"), recursive=True):
        with open(path, encoding="utf-8", errors="replace") as f:
            names.update(re.findall(r'"(seghub_[a-z0-9_]+)"', f.read()))
    return names


def probe_routes():
    path = os.path.join(ROOT, "src", "api", "health_routes.cc")
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r'AddSync\(\s*"GET",\s*"(/[^"]*)"', f.read()))


HELP_CACHE = {}


def subcommand_help(sub):
    """(flags, env names) of `seghub SUB --help`, or None when SUB is not a subcommand."""
    if sub in HELP_CACHE:
        return HELP_CACHE[sub]
    result = None
    try:
        p = subprocess.run([BINARY, sub, "--help"], capture_output=True, text=True, timeout=60)
        out = p.stdout + p.stderr
        # CLI11 answers an unknown subcommand's --help with the top-level help (exit 0), so the
        # usage line is what tells: "Usage: <binary> <sub> [OPTIONS]".
        if p.returncode == 0 and re.search(r"^Usage: \S+ " + re.escape(sub) + r"\b", out, re.M):
            flags = set(re.findall(r"(?:^|[\s,])(--[a-z0-9][a-z0-9-]*)", out, re.M))
            envs = set(re.findall(r"Env:(SEGHUB_[A-Z0-9_]+)", out))
            result = (flags, envs)
    except (OSError, subprocess.TimeoutExpired) as e:
        err(BINARY, f"cannot run `{sub} --help`: {e}")
    HELP_CACHE[sub] = result
    return result


def check_seghub_command(where, args, envs):
    """args: the container's arguments after the entrypoint (args[0] = subcommand)."""
    if not args:
        err(where, "no seghub subcommand given")
        return
    sub = str(args[0])
    help_ = subcommand_help(sub)
    if help_ is None:
        if sub == "worker":
            err(where, f"`{os.path.basename(BINARY)} worker --help` does not show the worker "
                "subcommand: `seghub worker` does not exist in this binary yet (the deployment "
                "files need it; this check stays red until it lands)")
        else:
            err(where, f"`{sub}` is not a subcommand of {BINARY}")
        return
    flags, env_names = help_
    for a in args[1:]:
        a = str(a)
        if a.startswith("--"):
            name = a.split("=", 1)[0]
            if name not in flags:
                err(where, f"`seghub {sub}` has no flag {name} (see `seghub {sub} --help`)")
    for e in envs:
        if e.startswith("SEGHUB_") and e not in env_names:
            err(where, f"`seghub {sub}` reads no variable {e} (see `seghub {sub} --help`)")


# ------------------------------------------------------------------------------------------
# Kubernetes

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
PORT_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
QTY = re.compile(r"^([0-9]+(\.[0-9]+)?)(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
UNITS = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2**10,
         "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}

CONTAINER_KEYS = {"name", "image", "imagePullPolicy", "command", "args", "env", "envFrom",
                  "ports", "resources", "startupProbe", "readinessProbe", "livenessProbe",
                  "securityContext", "volumeMounts", "workingDir", "lifecycle"}
PROBE_KEYS = {"httpGet", "tcpSocket", "exec", "grpc", "initialDelaySeconds", "periodSeconds",
              "timeoutSeconds", "failureThreshold", "successThreshold",
              "terminationGracePeriodSeconds"}
POD_SPEC_KEYS = {"containers", "initContainers", "volumes", "affinity", "securityContext",
                 "terminationGracePeriodSeconds", "serviceAccountName",
                 "automountServiceAccountToken", "nodeSelector", "tolerations",
                 "topologySpreadConstraints", "priorityClassName", "imagePullSecrets"}


def quantity(s):
    m = QTY.match(str(s))
    return None if not m else float(m.group(1)) * UNITS[m.group(3)]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def load_yaml_docs(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        err(path, f"YAML does not parse: {e}")
        return []


def check_probe(where, cname, kind, probe, port_names, routes):
    if not isinstance(probe, dict):
        err(where, f"container {cname}: {kind} missing")
        return
    for k in probe:
        if k not in PROBE_KEYS:
            err(where, f"container {cname}: {kind} has unknown field {k}")
    http = probe.get("httpGet")
    if not isinstance(http, dict):
        err(where, f"container {cname}: {kind} is not an httpGet probe")
        return
    path = http.get("path")
    if path not in routes:
        err(where, f"container {cname}: {kind} path {path!r} is not a probe route of "
            f"src/api/health_routes.cc ({sorted(routes)})")
    port = http.get("port")
    if isinstance(port, str) and port not in port_names:
        err(where, f"container {cname}: {kind} port {port!r} is not a named container port")
    elif not isinstance(port, (str, int)):
        err(where, f"container {cname}: {kind} has no port")
    for k in ("periodSeconds", "timeoutSeconds", "failureThreshold", "initialDelaySeconds"):
        if k in probe and not (is_int(probe[k]) and probe[k] >= 0):
            err(where, f"container {cname}: {kind}.{k} must be a non-negative integer")


def check_k8s(objects, routes, metric_names):
    by_kind = {}
    for path, doc in objects:
        by_kind.setdefault(doc.get("kind"), []).append((path, doc))
    configmaps = {d["metadata"]["name"]: d for _, d in by_kind.get("ConfigMap", [])
                  if d["metadata"].get("namespace") != "monitoring"}
    secrets = {d["metadata"]["name"]: d for _, d in by_kind.get("Secret", [])}
    pvcs = {d["metadata"]["name"] for _, d in by_kind.get("PersistentVolumeClaim", [])}
    deployments = {}

    for path, d in objects:
        for k in ("apiVersion", "kind", "metadata"):
            if k not in d:
                err(path, f"a document lacks {k}")
        meta = d.get("metadata") or {}
        name = meta.get("name")
        if not isinstance(name, str) or not DNS1123.match(name) or len(name) > 253:
            err(path, f"{d.get('kind')}: metadata.name {name!r} is not a DNS-1123 name")
        for k, v in (meta.get("labels") or {}).items():
            if not isinstance(v, str):
                err(path, f"{name}: label {k} must be a string, got {v!r}")
        for k, v in (meta.get("annotations") or {}).items():
            if not isinstance(v, str):
                err(path, f"{name}: annotation {k} must be a string, got {v!r}")
        if d.get("kind") != "Namespace" and not meta.get("namespace"):
            err(path, f"{d.get('kind')} {name}: no metadata.namespace")
        if d.get("kind") in ("ConfigMap", "Secret"):
            for field in ("data", "stringData"):
                for k, v in (d.get(field) or {}).items():
                    if not isinstance(v, str):
                        err(path, f"{name}: {field}.{k} must be a string, got {v!r}")

    expected_api = {"Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
                    "PersistentVolumeClaim": "v1", "Deployment": "apps/v1",
                    "HorizontalPodAutoscaler": "autoscaling/v2",
                    "PodDisruptionBudget": "policy/v1"}
    for path, d in objects:
        want = expected_api.get(d.get("kind"))
        if want is None:
            err(path, f"unexpected kind {d.get('kind')!r}")
        elif d.get("apiVersion") != want:
            err(path, f"{d['kind']} must be apiVersion {want}, not {d.get('apiVersion')}")

    for path, d in by_kind.get("Deployment", []):
        name = d["metadata"]["name"]
        spec = d.get("spec") or {}
        sel = ((spec.get("selector") or {}).get("matchLabels")) or {}
        tmpl = spec.get("template") or {}
        tlabels = (tmpl.get("metadata") or {}).get("labels") or {}
        if not sel:
            err(path, f"Deployment {name}: spec.selector.matchLabels is empty")
        for k, v in sel.items():
            if tlabels.get(k) != v:
                err(path, f"Deployment {name}: selector {k}={v} does not match the template labels")
        if "replicas" in spec and not is_int(spec["replicas"]):
            err(path, f"Deployment {name}: replicas must be an integer")
        pod = tmpl.get("spec") or {}
        for k in pod:
            if k not in POD_SPEC_KEYS:
                err(path, f"Deployment {name}: unknown pod spec field {k}")
        volumes = {v.get("name"): v for v in pod.get("volumes") or []}
        for vname, v in volumes.items():
            if "persistentVolumeClaim" in v and v["persistentVolumeClaim"].get("claimName") not in pvcs:
                err(path, f"Deployment {name}: volume {vname} claims an undefined PVC")
            if "secret" in v:
                s = secrets.get(v["secret"].get("secretName"))
                if s is None:
                    err(path, f"Deployment {name}: volume {vname} names an undefined Secret")
                else:
                    keys = set((s.get("data") or {})) | set((s.get("stringData") or {}))
                    for item in v["secret"].get("items") or []:
                        if item.get("key") not in keys:
                            err(path, f"Deployment {name}: volume {vname} item {item.get('key')} "
                                "is not a key of the Secret")
        anti = (((pod.get("affinity") or {}).get("podAntiAffinity") or {})
                .get("preferredDuringSchedulingIgnoredDuringExecution")) or []
        if not anti:
            err(path, f"Deployment {name}: no preferred podAntiAffinity")
        for term in anti:
            t = term.get("podAffinityTerm") or {}
            ml = (t.get("labelSelector") or {}).get("matchLabels") or {}
            if not t.get("topologyKey") or not is_int(term.get("weight")):
                err(path, f"Deployment {name}: podAntiAffinity term needs weight and topologyKey")
            if not ml or any(tlabels.get(k) != v for k, v in ml.items()):
                err(path, f"Deployment {name}: podAntiAffinity does not select its own pods")
        containers = pod.get("containers") or []
        if not containers:
            err(path, f"Deployment {name}: no containers")
        port_names_all = set()
        for c in containers:
            cname = c.get("name")
            for k in c:
                if k not in CONTAINER_KEYS:
                    err(path, f"container {cname}: unknown field {k}")
            if not c.get("image"):
                err(path, f"container {cname}: no image")
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if quantity((res.get(kind) or {}).get(r)) is None:
                        err(path, f"container {cname}: resources.{kind}.{r} missing or malformed")
            for r in ("cpu", "memory"):
                rq = quantity((res.get("requests") or {}).get(r))
                lm = quantity((res.get("limits") or {}).get(r))
                if rq is not None and lm is not None and rq > lm:
                    err(path, f"container {cname}: {r} request exceeds its limit")
            port_names = set()
            for p in c.get("ports") or []:
                pn = p.get("name")
                if not isinstance(pn, str) or len(pn) > 15 or not PORT_NAME.match(pn):
                    err(path, f"container {cname}: port {p.get('containerPort')} needs a name "
                        "(IANA service name: <= 15 lowercase characters)")
                else:
                    port_names.add(pn)
                if not is_int(p.get("containerPort")) or not 0 < p["containerPort"] < 65536:
                    err(path, f"container {cname}: bad containerPort {p.get('containerPort')!r}")
            port_names_all |= port_names
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                check_probe(path, cname, kind, c.get(kind), port_names, routes)
            env_names = []
            for e in c.get("env") or []:
                en = e.get("name")
                env_names.append(en)
                if "value" in e and not isinstance(e["value"], str):
                    err(path, f"container {cname}: env {en} value must be a string")
                vf = e.get("valueFrom") or {}
                if "secretKeyRef" in vf:
                    ref = vf["secretKeyRef"]
                    s = secrets.get(ref.get("name"))
                    keys = set() if s is None else (set(s.get("data") or {}) |
                                                    set(s.get("stringData") or {}))
                    if ref.get("key") not in keys:
                        err(path, f"container {cname}: env {en} refers to a missing Secret key "
                            f"{ref.get('name')}/{ref.get('key')}")
                if "configMapKeyRef" in vf:
                    ref = vf["configMapKeyRef"]
                    cm = configmaps.get(ref.get("name"))
                    if cm is None or ref.get("key") not in (cm.get("data") or {}):
                        err(path, f"container {cname}: env {en} refers to a missing ConfigMap key "
                            f"{ref.get('name')}/{ref.get('key')}")
            args = [str(a) for a in (c.get("args") or [])]
            for a in args:
                for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", a):
                    if var not in env_names:
                        err(path, f"container {cname}: args use $({var}) but env has no {var}")
            for m in c.get("volumeMounts") or []:
                if m.get("name") not in volumes:
                    err(path, f"container {cname}: volumeMount {m.get('name')} has no volume")
            sc = c.get("securityContext") or {}
            if sc.get("allowPrivilegeEscalation") is not False:
                err(path, f"container {cname}: set securityContext.allowPrivilegeEscalation: false")
            if str(c.get("image", "")).split(":")[0].split("/")[-1].startswith("seghub"):
                if c.get("command"):
                    err(path, f"container {cname}: keep the image's ENTRYPOINT (seghub); no command")
                check_seghub_command(f"{os.path.relpath(path, ROOT)} ({name})", args, env_names)
        psc = pod.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True:
            err(path, f"Deployment {name}: pod securityContext.runAsNonRoot must be true")
        deployments[name] = (tlabels, port_names_all, containers)

    for path, d in by_kind.get("Service", []):
        name = d["metadata"]["name"]
        spec = d.get("spec") or {}
        sel = spec.get("selector") or {}
        targets = [n for n, (labels, _, _) in deployments.items()
                   if sel and all(labels.get(k) == v for k, v in sel.items())]
        if not targets:
            err(path, f"Service {name}: selector {sel} matches no Deployment's pods")
        for p in spec.get("ports") or []:
            if not isinstance(p.get("name"), str) or not PORT_NAME.match(p["name"]):
                err(path, f"Service {name}: port {p.get('port')} needs a name")
            if not is_int(p.get("port")):
                err(path, f"Service {name}: port must be an integer")
            tp = p.get("targetPort", p.get("port"))
            for t in targets:
                _, names, containers = deployments[t]
                numbers = {cp.get("containerPort") for c in containers for cp in c.get("ports") or []}
                if (isinstance(tp, str) and tp not in names) or (is_int(tp) and tp not in numbers):
                    err(path, f"Service {name}: targetPort {tp!r} is not a port of Deployment {t}")

    adapter_metrics = set()
    for path, d in by_kind.get("ConfigMap", []):
        if "config.yaml" not in (d.get("data") or {}):
            continue
        try:
            cfg = yaml.safe_load(d["data"]["config.yaml"]) or {}
        except yaml.YAMLError as e:
            err(path, f"config.yaml does not parse: {e}")
            continue
        for rule in cfg.get("rules") or []:
            for k in ("seriesQuery", "resources", "name", "metricsQuery"):
                if k not in rule:
                    err(path, f"adapter rule lacks {k}")
            for m in promql_metrics(rule.get("seriesQuery", "")):
                if m not in metric_names:
                    err(path, f"adapter rule series {m} is not a metric of src/ (the worker must "
                        "export it under exactly this name)")
            as_name = (rule.get("name") or {}).get("as")
            if as_name:
                adapter_metrics.add(as_name)
            if "<<.Series>>" not in rule.get("metricsQuery", ""):
                err(path, "adapter rule metricsQuery does not use <<.Series>>")

    for path, d in by_kind.get("HorizontalPodAutoscaler", []):
        name = d["metadata"]["name"]
        spec = d.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if ref.get("kind") != "Deployment" or ref.get("apiVersion") != "apps/v1" or \
                ref.get("name") not in deployments:
            err(path, f"HPA {name}: scaleTargetRef {ref} is not a Deployment defined here")
        lo, hi = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if not is_int(lo) or not is_int(hi) or not 1 <= lo <= hi:
            err(path, f"HPA {name}: need integers 1 <= minReplicas <= maxReplicas ({lo}, {hi})")
        metrics = spec.get("metrics") or []
        types = [m.get("type") for m in metrics]
        if "Pods" not in types or "Resource" not in types:
            err(path, f"HPA {name}: expected a Pods custom metric and a Resource (CPU) fallback")
        for m in metrics:
            t = m.get("type")
            if t == "Pods":
                pm = m.get("pods") or {}
                mname = (pm.get("metric") or {}).get("name")
                tgt = pm.get("target") or {}
                if tgt.get("type") != "AverageValue" or quantity(tgt.get("averageValue")) is None:
                    err(path, f"HPA {name}: Pods metric needs target type AverageValue with "
                        "a quantity averageValue")
                if mname not in adapter_metrics:
                    err(path, f"HPA {name}: Pods metric {mname!r} is not served by any rule of "
                        "prometheus-adapter-rules.yaml")
            elif t == "Resource":
                rm = m.get("resource") or {}
                tgt = rm.get("target") or {}
                if rm.get("name") not in ("cpu", "memory"):
                    err(path, f"HPA {name}: Resource metric name must be cpu or memory")
                if tgt.get("type") != "Utilization" or not is_int(tgt.get("averageUtilization")):
                    err(path, f"HPA {name}: Resource target needs type Utilization and an "
                        "integer averageUtilization")
            else:
                err(path, f"HPA {name}: unexpected metric type {t!r}")

    for path, d in by_kind.get("PodDisruptionBudget", []):
        name = d["metadata"]["name"]
        spec = d.get("spec") or {}
        if ("minAvailable" in spec) == ("maxUnavailable" in spec):
            err(path, f"PDB {name}: set exactly one of minAvailable and maxUnavailable")
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        if not any(sel and all(l.get(k) == v for k, v in sel.items())
                   for l, _, _ in deployments.values()):
            err(path, f"PDB {name}: selector matches no Deployment's pods")
    if not by_kind.get("PodDisruptionBudget"):
        err(K8S, "no PodDisruptionBudget")
    for kind in ("Namespace", "ConfigMap", "Secret", "Deployment", "Service",
                 "HorizontalPodAutoscaler"):
        if not by_kind.get(kind):
            err(K8S, f"no {kind}")


def check_kustomization(k8s_files):
    path = os.path.join(K8S, "kustomization.yaml")
    docs = load_yaml_docs(path)
    if not docs:
        err(path, "missing")
        return
    k = docs[0]
    listed = k.get("resources") or []
    for r in listed:
        if not os.path.exists(os.path.join(K8S, r)):
            err(path, f"resource {r} does not exist")
    for f in k8s_files:
        base = os.path.basename(f)
        if base not in listed and base not in ("kustomization.yaml",
                                               "prometheus-adapter-rules.yaml"):
            err(path, f"{base} is not listed in resources")


# ------------------------------------------------------------------------------------------
# PromQL (metric names only)

PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
                "or", "unless", "offset", "inf", "nan", "le"}


def promql_metrics(expr):
    e = re.sub(r'"(\\.|[^"\\])*"|\'(\\.|[^\'\\])*\'', '""', expr)  # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                                  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                                 # range selectors
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    e = re.sub(r"\$\{?\w+\}?", "", e)                                # Grafana variables
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue
        if re.match(r"^[0-9.]+$", word):
            continue
        names.add(word)
    return names


def base_metric(name, known):
    if name in known:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and name[: -len(suffix)] in known:
            return name[: -len(suffix)]
    return None


def check_dashboard(metric_names):
    path = os.path.join(DEPLOY, "grafana", "dashboards", "seghub.json")
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        err(path, f"does not parse: {e}")
        return
    ds_uids = set()
    for p in glob.glob(os.path.join(DEPLOY, "grafana", "provisioning", "datasources", "*.y*ml")):
        for d in load_yaml_docs(p):
            ds_uids.update(x.get("uid") for x in d.get("datasources") or [])
    exprs = []
    for var in (dash.get("templating") or {}).get("list") or []:
        q = var.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        if isinstance(q, str):
            m = re.match(r"label_values\((.*),\s*\w+\)\s*$", q)
            exprs.append(("variable " + var.get("name", "?"), m.group(1) if m else q))
    titles = set()
    panels = dash.get("panels") or []
    for p in panels:
        if p.get("type") == "row":
            continue
        titles.add(p.get("title"))
        uid = (p.get("datasource") or {}).get("uid")
        if uid not in ds_uids:
            err(path, f"panel {p.get('title')!r}: datasource uid {uid!r} is not provisioned")
        if not p.get("targets"):
            err(path, f"panel {p.get('title')!r} has no queries")
        for t in p.get("targets") or []:
            exprs.append((p.get("title"), t.get("expr", "")))
    for where, e in exprs:
        if e.count("(") != e.count(")") or e.count("{") != e.count("}"):
            err(path, f"{where}: unbalanced brackets in {e!r}")
        found = promql_metrics(e)
        if not found:
            err(path, f"{where}: no metric in {e!r}")
        for m in found:
            if base_metric(m, metric_names) is None:
                err(path, f"{where}: metric {m} is not registered anywhere in src/")
        if "histogram_quantile" in e and "_bucket" not in e:
            err(path, f"{where}: histogram_quantile over something that is not a _bucket series")
    text = " ".join(e for _, e in exprs)
    for need, what in (("seghub_hub_queue_depth", "queue depth"),
                       ("seghub_segment_images_total", "images/s"),
                       ("seghub_http_requests_total", "requests/s"),
                       ("histogram_quantile(0.99", "p99 latency"),
                       ("seghub_inference_batch_size", "batch size"),
                       ("seghub_memory_used_bytes", "memory")):
        if need not in text:
            err(path, f"no panel shows {what} ({need})")


# ------------------------------------------------------------------------------------------
# Compose and Prometheus

def check_compose():
    path = os.path.join(DEPLOY, "compose.yaml")
    docs = load_yaml_docs(path)
    if not docs:
        err(path, "missing or empty")
        return {}
    c = docs[0]
    services = c.get("services") or {}
    named_volumes = set((c.get("volumes") or {}).keys())
    secrets = set((c.get("secrets") or {}).keys())
    for want in ("api", "worker", "postgres", "redis", "prometheus", "grafana"):
        if want not in services:
            err(path, f"no service {want}")
    for name, s in services.items():
        if not s.get("image") and not s.get("build"):
            err(path, f"service {name}: neither image nor build")
        dep = s.get("depends_on") or []
        for d in (dep.keys() if isinstance(dep, dict) else dep):
            if d not in services:
                err(path, f"service {name}: depends_on {d} is not a service")
        if isinstance(dep, dict):
            for d, cond in dep.items():
                want = (cond or {}).get("condition", "service_started")
                if want not in ("service_started", "service_healthy",
                                "service_completed_successfully"):
                    err(path, f"service {name}: depends_on {d} has bad condition {want}")
                if want == "service_healthy" and not (services.get(d) or {}).get("healthcheck"):
                    err(path, f"service {name}: waits for {d} to be healthy, which has no healthcheck")
        for v in s.get("volumes") or []:
            src = str(v).split(":")[0] if isinstance(v, str) else v.get("source")
            if src.startswith(".") or src.startswith("/"):
                if not os.path.exists(os.path.join(DEPLOY, src)):
                    err(path, f"service {name}: bind mount source {src} does not exist")
            elif src not in named_volumes:
                err(path, f"service {name}: volume {src} is not declared under volumes:")
        for sec in s.get("secrets") or []:
            sec = sec if isinstance(sec, str) else sec.get("source")
            if sec not in secrets:
                err(path, f"service {name}: secret {sec} is not declared under secrets:")
        replicas = ((s.get("deploy") or {}).get("replicas"))
        if replicas is not None and not is_int(replicas):
            err(path, f"service {name}: deploy.replicas must be an integer")
        if replicas and replicas > 1 and (s.get("container_name") or s.get("ports")):
            err(path, f"service {name}: replicated services can have no container_name or "
                "host ports")
        image = str(s.get("image", ""))
        if "seghub" in image.split("/")[-1]:
            cmd = s.get("command")
            if not isinstance(cmd, list):
                err(path, f"service {name}: give the seghub command as a list")
            else:
                env = s.get("environment") or {}
                envs = list(env.keys()) if isinstance(env, dict) else [
                    e.split("=", 1)[0] for e in env]
                check_seghub_command(f"deploy/compose.yaml ({name})", [str(a) for a in cmd], envs)
    if "worker" in services and not (services["worker"].get("deploy") or {}).get("replicas"):
        err(path, "worker: set deploy.replicas")
    redis_cmd = " ".join(map(str, (services.get("redis") or {}).get("command") or []))
    if "--appendonly yes" not in redis_cmd:
        err(path, "redis: run with --appendonly yes")
    return services


def compose_listen_ports(service):
    cmd = [str(a) for a in service.get("command") or []]
    ports = set()
    for i, a in enumerate(cmd[:-1]):
        if a == "--port":
            ports.add(cmd[i + 1])
    return ports or {"8080"}


def check_prometheus(services):
    path = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
    docs = load_yaml_docs(path)
    if not docs:
        err(path, "missing")
        return
    scraped = set()
    for job in docs[0].get("scrape_configs") or []:
        if not job.get("job_name"):
            err(path, "a scrape config has no job_name")
        for sc in job.get("static_configs") or []:
            for t in sc.get("targets") or []:
                host, _, port = t.partition(":")
                scraped.add(host)
                if host not in services:
                    err(path, f"target {t}: {host} is not a compose service")
                elif port not in compose_listen_ports(services[host]):
                    err(path, f"target {t}: {host} does not listen on {port}")
        for sd in job.get("dns_sd_configs") or []:
            for n in sd.get("names") or []:
                scraped.add(n)
                if n not in services:
                    err(path, f"dns_sd name {n} is not a compose service")
                elif str(sd.get("port")) not in compose_listen_ports(services[n]):
                    err(path, f"dns_sd {n}: port {sd.get('port')} is not the one it listens on")
    for want in ("api", "worker"):
        if want not in scraped:
            err(path, f"{want} is not scraped")


# ------------------------------------------------------------------------------------------

def main():
    if not os.access(BINARY, os.X_OK):
        err(BINARY, "seghub binary not found (set SEGHUB_BINARY)")
    metric_names = source_metric_names()
    routes = probe_routes()
    for r in ("/health", "/ready", "/startup", "/metrics"):
        if r not in routes:
            err("src/api/health_routes.cc", f"route {r} not found")
    k8s_files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
    objects = []
    for f in k8s_files:
        if os.path.basename(f) == "kustomization.yaml":
            continue
        for d in load_yaml_docs(f):
            if not isinstance(d, dict):
                err(f, "a document is not a mapping")
            else:
                objects.append((f, d))
    check_k8s(objects, routes, metric_names)
    check_kustomization(k8s_files)
    # When kubectl is here, kustomize must also build the overlay (offline; no cluster needed).
    # `kubectl apply --dry-run=client` is not used: it needs a reachable API server.
    try:
        p = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0:
            err(os.path.join(K8S, "kustomization.yaml"), f"kubectl kustomize failed: {p.stderr}")
    except (OSError, subprocess.TimeoutExpired):
        pass  # no kubectl: the checks above still ran
    services = check_compose()
    check_prometheus(services)
    check_dashboard(metric_names)
    unique = list(dict.fromkeys(errors))
    errors[:] = unique
    for e in errors:
        print("FAIL", e)
    checked = f"{len(objects)} Kubernetes objects, {len(services)} compose services"
    if errors:
        print(f"validate_deploy: {len(errors)} problem(s) in {checked}")
        return 1
    print(f"validate_deploy: ok ({checked}, dashboard, Prometheus config)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
