import type { PlopTypes } from '@turbo/gen';

// `pnpm gen` (turbo gen): scaffolds a new package or a new block in an existing package, with
// the files CONTRIBUTING.md describes, so a contributor only fills in the maths.
export default function generator(plop: PlopTypes.NodePlopAPI): void {
  plop.setGenerator('package', {
    description: 'A new @gradflow/<name> library package',
    prompts: [
      { type: 'input', name: 'name', message: 'package name (kebab-case, without @gradflow/):' },
      { type: 'input', name: 'description', message: 'one-line description:' },
    ],
    actions: [
      {
        type: 'addMany',
        destination: '{{ turbo.paths.root }}/packages/{{ kebabCase name }}',
        base: 'templates/package',
        templateFiles: 'templates/package/**/*',
        globOptions: { dot: true },
      },
      {
        type: 'add',
        path: '{{ turbo.paths.root }}/.changeset/{{ kebabCase name }}-initial.md',
        template: '---\n"@gradflow/{{ kebabCase name }}": minor\n---\n\nNew package: {{ description }}\n',
      },
    ],
  });

  plop.setGenerator('block', {
    description: 'A new block (functional builder) in an existing package',
    prompts: [
      { type: 'input', name: 'package', message: 'package (e.g. residual):' },
      { type: 'input', name: 'name', message: 'block name (camelCase, e.g. ghostBlock):' },
    ],
    actions: [
      {
        type: 'add',
        path: '{{ turbo.paths.root }}/packages/{{ package }}/src/{{ kebabCase name }}.ts',
        templateFile: 'templates/block/block.ts.hbs',
      },
      {
        type: 'add',
        path: '{{ turbo.paths.root }}/packages/{{ package }}/src/{{ kebabCase name }}.test.ts',
        templateFile: 'templates/block/block.test.ts.hbs',
      },
      {
        type: 'append',
        path: '{{ turbo.paths.root }}/packages/{{ package }}/src/index.ts',
        template:
          "export { {{ camelCase name }} } from './{{ kebabCase name }}.js';\nexport type { {{ pascalCase name }}Options } from './{{ kebabCase name }}.js';",
      },
      {
        type: 'add',
        path: '{{ turbo.paths.root }}/.changeset/{{ package }}-{{ kebabCase name }}.md',
        template: '---\n"@gradflow/{{ package }}": minor\n---\n\nAdd `{{ camelCase name }}`.\n',
      },
    ],
  });
}
