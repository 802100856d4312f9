import { describe, expect, it } from 'vitest';
import { DuplicateNameError, GradflowError, InvalidArgumentError, UnknownNameError } from './errors.js';
import { Registry } from './registry.js';

const MODELS = { resnet20: 20, resnet32: 32, resnet56: 56 } as const;

describe('Registry', () => {
  it('looks up entries from its table and lists them in order', () => {
    const models = new Registry('model', MODELS);
    expect(models.get('resnet32')).toBe(32);
    expect(models.list()).toEqual(['resnet20', 'resnet32', 'resnet56']);
    expect(models.has('resnet56')).toBe(true);
  });

  it('suggests the closest names for an unknown one', () => {
    const models = new Registry('model', MODELS, { hint: 'see listModels()' });
    let error: unknown;
    try {
      models.get('resnet21');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownNameError);
    expect(error).toBeInstanceOf(GradflowError);
    const e = error as UnknownNameError;
    expect(e.code).toBe('UNKNOWN_NAME');
    expect(e.value).toBe('resnet21');
    expect(e.suggestions[0]).toBe('resnet20');
    expect(e.message).toBe("unknown model 'resnet21'; did you mean 'resnet20'? see listModels()");
  });

  it('lists the known names when nothing is close', () => {
    const models = new Registry('model', MODELS);
    expect(() => models.get('vgg')).toThrow("unknown model 'vgg'; known: resnet20, resnet32, resnet56");
  });

  it('refuses silent double registration and allows explicit override', () => {
    const models = new Registry<number>('model', MODELS);
    expect(() => models.register('resnet20', 1)).toThrow(DuplicateNameError);
    expect(models.get('resnet20')).toBe(20);
    models.register('resnet20', 1, { override: true });
    expect(models.get('resnet20')).toBe(1);
    expect(() => models.register('', 1)).toThrow(InvalidArgumentError);
  });
});
