#!/usr/bin/env python3
"""Check that the objects of the rendered Kubernetes deployment agree with each other.

    kubectl kustomize deploy/kubernetes | python3 scripts/lint/check_consistency.py \
        --partitions 6 --secret deploy/kubernetes/secret.example.yaml

Schemas check each object alone; these are the rules across objects that no schema can
express, each a mistake that would apply cleanly and fail at run time: the autoscaler's
ceiling above the topic's partitions, a selector that matches nothing, a ConfigMap or Secret
key that nothing provides, a grace period shorter than the drain, the KEDA kafka trigger
watching another group or topic, or speaking another security protocol, than the members.
Prints one line and exits 0 when all hold; prints each broken rule and exits 1.
"""
import argparse
import os
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from manifests import ManifestError, load_files  # noqa: E402

# Seconds the preStop hook may take: curl's --max-time 3 plus reading files and forking.
PRESTOP_BUDGET = 5
# What `cascade consume` uses when the ConfigMap does not say (docs/OPERATIONS.md).
DEFAULTS = {"CASCADE_GROUP": "cascade", "CASCADE_REPORTS_TOPIC": "pie.job-completions",
            "CASCADE_SHUTDOWN_TIMEOUT": "20"}
# librdkafka sasl.mechanisms -> KEDA kafka trigger `sasl`.
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512",
             "OAUTHBEARER": "oauthbearer", "GSSAPI": "gssapi"}
KAFKA_ENV = re.compile(r"^CASCADE_KAFKA_[A-Z0-9]+(_{1,3}[A-Z0-9]+)*$")


class Checker:
    def __init__(self, docs, secret_docs, partitions):
        self.problems = []
        self.by_kind = {}
        for _, doc in docs:
            self.by_kind.setdefault(doc["kind"], []).append(doc)
        self.secrets = {d["metadata"]["name"]: d for _, d in secret_docs if d.get("kind") == "Secret"}
        self.partitions = partitions

    def fail(self, message):
        self.problems.append(message)

    def one(self, kind):
        objs = self.by_kind.get(kind, [])
        if len(objs) != 1:
            self.fail(f"expected exactly one {kind}, found {len(objs)}")
            return None
        return objs[0]

    def named(self, kind, name):
        return next((o for o in self.by_kind.get(kind, []) if o["metadata"]["name"] == name), None)

    @staticmethod
    def selects(selector, labels):
        match = (selector or {}).get("matchLabels") or {}
        return bool(match) and not (selector or {}).get("matchExpressions") and \
            all(labels.get(k) == v for k, v in match.items())

    def run(self):
        sts = self.one("StatefulSet")
        if sts is None:
            return
        name = sts["metadata"]["name"]
        spec = sts["spec"]
        pod = spec["template"]["spec"]
        pod_labels = spec["template"]["metadata"].get("labels") or {}
        containers = pod["containers"]
        main = containers[0]

        # The environment the members get: the ConfigMaps they name (rendered), the Secret (example).
        env = {}
        for c in containers + pod.get("initContainers", []):
            for src in c.get("envFrom", []):
                if "configMapRef" in src:
                    cm = self.named("ConfigMap", src["configMapRef"]["name"])
                    if cm is None:
                        self.fail(f"container {c['name']}: envFrom ConfigMap {src['configMapRef']['name']} is not rendered")
                    else:
                        env.update(cm.get("data") or {})
                if "secretRef" in src:
                    sec = self.secrets.get(src["secretRef"]["name"])
                    if sec is None:
                        self.fail(f"container {c['name']}: envFrom Secret {src['secretRef']['name']} has no example")
                    else:
                        env.update({k: "(secret)" for k in {**(sec.get("data") or {}), **(sec.get("stringData") or {})}})
        for key in env:
            if key.startswith("CASCADE_KAFKA_") and not KAFKA_ENV.match(key):
                self.fail(f"{key}: not a CASCADE_KAFKA_<PROPERTY> name (upper case; '.' '_' '-' as _ __ ___)")
        if "CASCADE_BROKERS" not in env:
            self.fail("no CASCADE_BROKERS in the members' environment")

        # KEDA owns the replicas.
        if "replicas" in spec:
            self.fail(f"StatefulSet {name} sets spec.replicas: every apply would fight the KEDA autoscaler")

        # Static membership: the instance id is the pod name; the leave-group file is writable.
        instance = next((e for e in main.get("env", []) if e["name"] == "CASCADE_INSTANCE_ID"), None)
        if not instance or (instance.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
            self.fail("CASCADE_INSTANCE_ID must come from the pod's metadata.name (a stable, unique static member id)")
        if not any(e["name"] == "POD_NAME" for e in main.get("env", [])):
            self.fail("POD_NAME (the preStop hook's ordinal) is not set")
        leave = env.get("CASCADE_LEAVE_GROUP_FILE")
        mounts = [m["mountPath"].rstrip("/") for m in main.get("volumeMounts", []) if not m.get("readOnly")]
        if not leave:
            self.fail("CASCADE_LEAVE_GROUP_FILE is not set: a scaled-in static member would hold its partitions")
        elif os.path.dirname(leave) not in mounts:
            self.fail(f"CASCADE_LEAVE_GROUP_FILE {leave}: its directory is not a writable mount of {main['name']}")
        pre = (main.get("lifecycle") or {}).get("preStop", {}).get("exec", {}).get("command")
        if pre != ["/usr/local/bin/cascade-prestop"]:
            self.fail(f"preStop must run /usr/local/bin/cascade-prestop, not {pre}")

        # Grace period: preStop + the longest drain + margin.
        grace = pod.get("terminationGracePeriodSeconds", 30)
        drain = int(env.get("CASCADE_SHUTDOWN_TIMEOUT", DEFAULTS["CASCADE_SHUTDOWN_TIMEOUT"]))
        if grace < PRESTOP_BUDGET + drain + 10:
            self.fail(f"terminationGracePeriodSeconds {grace} < preStop {PRESTOP_BUDGET} s + drain {drain} s + 10 s margin")
        session = int(env.get("CASCADE_KAFKA_SESSION_TIMEOUT_MS", "10000"))
        heartbeat = int(env.get("CASCADE_KAFKA_HEARTBEAT_INTERVAL_MS", "3000"))
        if heartbeat * 3 > session:
            self.fail(f"heartbeat.interval.ms {heartbeat} is over a third of session.timeout.ms {session}")

        # Images pinned; hardening on every container; probes on named ports.
        for c in containers + pod.get("initContainers", []):
            image = c.get("image", "")
            if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
                self.fail(f"container {c['name']}: image {image!r} is not pinned to a tag or digest")
            sc = c.get("securityContext") or {}
            if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False \
                    or "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                self.fail(f"container {c['name']}: needs readOnlyRootFilesystem, no privilege escalation, capabilities drop ALL")
        ports = {p.get("name") for p in main.get("ports", [])}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            port = ((main.get(probe) or {}).get("httpGet") or {}).get("port")
            if port is None:
                self.fail(f"{main['name']}: no HTTP {probe}")
            elif isinstance(port, str) and port not in ports:
                self.fail(f"{main['name']}: {probe} port {port!r} is not a container port")

        # The governing Service, the ServiceMonitor, the PodDisruptionBudget.
        svc = self.named("Service", spec.get("serviceName"))
        if svc is None:
            self.fail(f"serviceName {spec.get('serviceName')!r} is not a rendered Service")
        else:
            if svc["spec"].get("clusterIP") != "None":
                self.fail(f"Service {svc['metadata']['name']} is the StatefulSet's serviceName and must be headless")
            if not self.selects({"matchLabels": svc["spec"].get("selector")}, pod_labels):
                self.fail(f"Service {svc['metadata']['name']} does not select the StatefulSet's pods")
            if not self.selects(spec["selector"], pod_labels):
                self.fail("the StatefulSet's selector does not match its pod template")
            for sm in self.by_kind.get("ServiceMonitor", []):
                if not self.selects(sm["spec"]["selector"], svc["metadata"].get("labels") or {}):
                    self.fail(f"ServiceMonitor {sm['metadata']['name']} does not select Service {svc['metadata']['name']}")
                svc_ports = {p.get("name") for p in svc["spec"]["ports"]}
                for ep in sm["spec"]["endpoints"]:
                    if ep.get("port") not in svc_ports:
                        self.fail(f"ServiceMonitor {sm['metadata']['name']}: port {ep.get('port')!r} is not a Service port")
        for pdb in self.by_kind.get("PodDisruptionBudget", []):
            if not self.selects(pdb["spec"]["selector"], pod_labels):
                self.fail(f"PodDisruptionBudget {pdb['metadata']['name']} does not select the members")

        # The preStop hook's permission.
        sa = pod.get("serviceAccountName", "default")
        if pod.get("automountServiceAccountToken") is False:
            self.fail("automountServiceAccountToken is false: the preStop hook needs the token")
        if self.named("ServiceAccount", sa) is None:
            self.fail(f"ServiceAccount {sa} is not rendered")
        allowed = False
        for rb in self.by_kind.get("RoleBinding", []):
            if not any(s.get("kind") == "ServiceAccount" and s.get("name") == sa for s in rb.get("subjects", [])):
                continue
            role = self.named("Role", rb["roleRef"]["name"]) if rb["roleRef"]["kind"] == "Role" else None
            for rule in (role or {}).get("rules", []):
                if "apps" in rule.get("apiGroups", []) and "statefulsets/scale" in rule.get("resources", []) \
                        and "get" in rule.get("verbs", []) and name in rule.get("resourceNames", [name]):
                    allowed = True
        if not allowed:
            self.fail(f"no RoleBinding lets ServiceAccount {sa} get statefulsets/scale of {name}")

        self.check_autoscaler(sts, env)

    def check_autoscaler(self, sts, env):
        so = self.one("ScaledObject")
        if so is None:
            return
        spec = so["spec"]
        ref = spec["scaleTargetRef"]
        if (ref.get("apiVersion"), ref.get("kind"), ref["name"]) != ("apps/v1", "StatefulSet", sts["metadata"]["name"]):
            self.fail(f"ScaledObject targets {ref}, not StatefulSet {sts['metadata']['name']}")
        lo, hi = spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100)
        if hi > self.partitions:
            self.fail(f"ScaledObject maxReplicaCount {hi} > {self.partitions} partitions: the extra members would sit idle")
        if lo > hi:
            self.fail(f"ScaledObject minReplicaCount {lo} > maxReplicaCount {hi}")
        group = env.get("CASCADE_GROUP", DEFAULTS["CASCADE_GROUP"])
        topic = env.get("CASCADE_REPORTS_TOPIC", DEFAULTS["CASCADE_REPORTS_TOPIC"])
        for t in spec["triggers"]:
            md = t["metadata"]
            if t["type"] == "prometheus" and f'topic="{topic}"' not in md.get("query", ""):
                self.fail(f"prometheus trigger: the query does not select topic=\"{topic}\"")
            if t["type"] != "kafka":
                continue
            if md.get("consumerGroup", group) != group:
                self.fail(f"kafka trigger: consumerGroup {md.get('consumerGroup')!r} is not the members' {group!r}")
            if md.get("topic", topic) != topic:
                self.fail(f"kafka trigger: topic {md.get('topic')!r} is not the reports topic {topic!r}")
            for key, value in md.items():
                if key.endswith("FromEnv") and value not in env:
                    self.fail(f"kafka trigger: {key} names {value}, which the members' environment lacks")
            protocol = env.get("CASCADE_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
            want_tls = "enable" if protocol in ("SSL", "SASL_SSL") else "disable"
            if md.get("tls", "disable") != want_tls:
                self.fail(f"kafka trigger: tls {md.get('tls', 'disable')!r} but the members use {protocol}")
            if protocol.startswith("SASL"):
                mech = env.get("CASCADE_KAFKA_SASL_MECHANISMS", "GSSAPI").upper()
                if md.get("sasl") != KEDA_SASL.get(mech):
                    self.fail(f"kafka trigger: sasl {md.get('sasl')!r} but the members use {mech} ({KEDA_SASL.get(mech)!r})")
                self.check_trigger_auth(t)
            elif md.get("sasl", "none") != "none":
                self.fail(f"kafka trigger: sasl {md['sasl']!r} but the members use {protocol}")

    def check_trigger_auth(self, trigger):
        ref = trigger.get("authenticationRef")
        ta = self.named("TriggerAuthentication", ref["name"]) if ref else None
        if ta is None:
            self.fail("kafka trigger: the members use SASL but the trigger has no rendered TriggerAuthentication")
            return
        params = set()
        for r in ta["spec"].get("secretTargetRef", []):
            params.add(r["parameter"])
            sec = self.secrets.get(r["name"])
            keys = {**(sec or {}).get("data", {}), **(sec or {}).get("stringData", {})}
            if r["key"] not in keys:
                self.fail(f"TriggerAuthentication {ta['metadata']['name']}: Secret {r['name']} has no key {r['key']}")
        if not {"username", "password"} <= params:
            self.fail(f"TriggerAuthentication {ta['metadata']['name']}: needs username and password for SASL")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partitions", type=int, required=True, help="partitions of the reports topic")
    parser.add_argument("--secret", required=True, help="the example Secret (not rendered)")
    parser.add_argument("rendered", nargs="?", default="-")
    args = parser.parse_args()
    try:
        checker = Checker(load_files([args.rendered]), load_files([args.secret]), args.partitions)
        checker.run()
    except ManifestError as e:
        print(f"FAIL {e}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError) as e:
        print(f"FAIL a field the checks need is missing or mistyped: {e!r}", file=sys.stderr)
        return 1
    for p in checker.problems:
        print(f"FAIL {p}", file=sys.stderr)
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
