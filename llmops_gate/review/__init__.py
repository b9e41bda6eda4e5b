"""`llmops-gate review`: what a change does on the cluster, per environment and overlay.

The flow: `render.render_pair` renders every unit the change can affect at the base (a
private export of the base revision) and at the head; `diff.diff_unit` matches the rendered
resources, filters noise and hides Secret values; `summary.release_facts` names in words what
matters for a model deployment; `report.Review` holds it all and the renderers (`text`,
`markdown` with its size `budget`, `as_json`) turn it into output. `post` keeps the tool's one
comment on a pull/merge request up to date.
"""
