#!/usr/bin/env node
// Backstage's own validators over entities given as a JSON list in the file named on the
// command line: the catalog's entity policies (envelope, field formats, no foreign root fields,
// the entity schema), then the validator of the entity's kind (@backstage/catalog-model; the
// Template kind from @backstage/plugin-scaffolder-common), as the catalog's processing does.
// Prints a JSON list of {index, kind, name, error}; exits 1 when there are any.
"use strict";
const { readFileSync } = require("node:fs");
const model = require("@backstage/catalog-model");
const { templateEntityV1beta3Validator } = require("@backstage/plugin-scaffolder-common");

const policies = model.EntityPolicies.allOf([
  new model.DefaultNamespaceEntityPolicy(),
  new model.FieldFormatEntityPolicy(),
  new model.NoForeignRootFieldsEntityPolicy(),
  new model.SchemaValidEntityPolicy(),
]);
const validators = [
  model.apiEntityV1alpha1Validator,
  model.componentEntityV1alpha1Validator,
  model.domainEntityV1alpha1Validator,
  model.groupEntityV1alpha1Validator,
  model.locationEntityV1alpha1Validator,
  model.resourceEntityV1alpha1Validator,
  model.systemEntityV1alpha1Validator,
  model.userEntityV1alpha1Validator,
  templateEntityV1beta3Validator,
];

async function check(entity) {
  const enforced = await policies.enforce(JSON.parse(JSON.stringify(entity)));
  if (!enforced) throw new Error("rejected by the entity policies");
  for (const validator of validators) {
    if (await validator.check(enforced)) return;
  }
  throw new Error(`no validator accepts kind ${entity.apiVersion}/${entity.kind}`);
}

async function main() {
  const entities = JSON.parse(readFileSync(process.argv[2], "utf8"));
  const problems = [];
  for (const [index, entity] of entities.entries()) {
    try {
      await check(entity);
    } catch (err) {
      problems.push({
        index,
        kind: entity && entity.kind,
        name: entity && entity.metadata && entity.metadata.name,
        error: String(err && err.message ? err.message : err),
      });
    }
  }
  process.stdout.write(JSON.stringify(problems, null, 1) + "\n");
  process.exitCode = problems.length ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`backstage-validate: ${err && err.stack ? err.stack : err}\n`);
  process.exitCode = 2;
});
