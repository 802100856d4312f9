import { gradflowProject } from '../../vitest.shared.js';

export default gradflowProject('browser-harness');
