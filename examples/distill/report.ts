// The distillation example's summary table: the teacher and both students — parameters, held-out
// accuracy and NLL, agreement with the teacher, and wall time.
import { formatTable, percent } from '../shared/table.js';
import type { DistillResult } from './distill.js';

export function formatDistillTable(r: DistillResult): string {
  const { teacher, students } = r;
  const row = (name: string, params: number, test: { accuracy: number; nll: number }, agreement: string, seconds: string) =>
    [name, params.toLocaleString('en-US'), percent(test.accuracy), test.nll.toFixed(4), agreement, seconds];
  return formatTable(
    ['model', 'params', 'test acc', 'test NLL', 'agrees w/ teacher', 'wall time'],
    [
      row(`teacher (${teacher.kind}, ${teacher.source})`, teacher.parameters, teacher.test, '', teacher.source === 'trained' ? `${teacher.trainSeconds.toFixed(1)} s` : '-'),
      row('student (labels)', r.studentParameters, students.labels.test, percent(students.labels.agreement), `${students.labels.wallSeconds.toFixed(1)} s`),
      row('student (distilled)', r.studentParameters, students.distilled.test, percent(students.distilled.agreement), `${students.distilled.wallSeconds.toFixed(1)} s`),
    ],
  );
}
