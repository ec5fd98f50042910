// Expandable results in the Watch pane, hovers and the Debug Console: a composite value of the expression
// language (a segment register, a descriptor, GDTR) shown as its fields.

import { formatValue, isComposite, type Composite } from '../expression/evaluate';
import { Container, type Row } from './variable-store';

export class CompositeContainer extends Container {
  constructor(
    private readonly value: Composite,
    private readonly evaluateName?: string,
  ) {
    super();
  }

  children(): Row[] {
    return this.value.fieldNames().map((name) => {
      const v = this.value.field(name)!;
      const row: Row = { name, value: formatValue(v), readOnly: true };
      if (this.evaluateName) row.evaluateName = `${this.evaluateName}.${name}`;
      if (isComposite(v)) row.child = new CompositeContainer(v, row.evaluateName);
      return row;
    });
  }
}
