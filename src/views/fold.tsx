// The heading of a sidebar section the user can fold away (the WAI-ARIA disclosure pattern: a
// button that says whether the section is expanded). static/js/main.js folds the section
// around it and keeps it folded across reloads and across the section's swaps; without script
// every section stays open.

export function FoldTitle(props: { id: string; title: string }) {
  return (
    <h2 class="fold-title">
      <button
        type="button"
        class="fold"
        id={`fold-${props.id}`}
        aria-expanded="true"
        data-fold={props.id}
      >
        {props.title}
      </button>
    </h2>
  );
}
