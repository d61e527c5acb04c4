// Validates ServiceMonitor and PrometheusRule objects against the Prometheus Operator's own CRD schemas,
// as compiled by the npm package @kubernetes-models/prometheus-operator (scripts/check_deploy.sh
// installs it and pins its version). Usage: node validate_crds.mjs NODE_MODULES_DIR OBJECTS.json
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, file] = process.argv.slice(2);
const v1 = join(modules, "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1");
const load = async (kind) => (await import(pathToFileURL(join(v1, `${kind}.js`)).href))[kind];
const objects = JSON.parse(readFileSync(file, "utf8"));
let failed = 0;
for (const obj of objects) {
  const where = `${obj.kind}/${obj.metadata?.name}`;
  if (obj.apiVersion !== "monitoring.coreos.com/v1") {
    console.error(`check_deploy: ${where}: no schema here for ${obj.apiVersion}`);
    failed++;
    continue;
  }
  let Model;
  try {
    Model = await load(obj.kind);
  } catch {
    console.error(`check_deploy: ${where}: no schema here for kind ${obj.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`${where}: valid (monitoring.coreos.com/v1 schema)`);
  } catch (err) {
    console.error(`check_deploy: ${where}: ${err.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);
