// Validates Kubernetes objects (a JSON array on stdin) against the Kubernetes OpenAPI schemas bundled
// in the `kubernetes-models` npm package (offline). Prints a JSON array of problems on stdout.
// An ES module run as its own process: kubernetes-models ships ES modules only, which jest cannot load.
const input = JSON.parse(
  await new Promise((resolve) => {
    let s = '';
    process.stdin.on('data', (d) => (s += d)).on('end', () => resolve(s));
  }),
);
const problems = [];
for (const obj of input) {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const dir = group === '' ? version : `${group}/${version}`;
  const where = `${obj.kind}/${obj.metadata?.name}`;
  let Model;
  try {
    ({ [obj.kind]: Model } = await import(`kubernetes-models/${dir}/${obj.kind}`));
  } catch (err) {
    problems.push({ where, problem: `no schema for ${obj.apiVersion} ${obj.kind}: ${err.message}` });
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.push({ where, problem: err.message, errors: err.errors });
  }
}
process.stdout.write(JSON.stringify(problems));
