// pnpm hooks for this workspace.
//
// engineStrict (pnpm-workspace.yaml) refuses any package whose `engines.node` the running
// Node does not satisfy. kysely 0.29 declares Node >= 22 but runs on Node 20: the
// published packages accept it as a peer, and @svc-jobs/webhooks tests against it
// (devDependency `kysely029`). This lifts that one declaration and nothing else.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === "kysely" && /^0\.29\./.test(pkg.version) && pkg.engines?.node) {
        delete pkg.engines.node;
      }
      return pkg;
    },
  },
};
