// Folio web: the little the pages need beyond htmx. Everything works without it.
// Forms marked data-confirm ask before they post (void, revise, remove…).
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
});
