// "Try these mappings": post the site's whole form (unsaved rows included)
// to the try-it page in a new tab; the form itself is left as it was.
"use strict";
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-try-unsaved]");
  if (!button) return;
  event.preventDefault();
  const form = button.form;
  const flag = document.createElement("input");
  flag.type = "hidden";
  flag.name = "_try_unsaved";
  flag.value = "1";
  const action = form.getAttribute("action");
  const target = form.getAttribute("target");
  form.appendChild(flag);
  form.setAttribute("action", button.dataset.tryUnsaved);
  form.setAttribute("target", "_blank");
  try {
    form.submit();
  } finally {
    flag.remove();
    if (action === null) form.removeAttribute("action"); else form.setAttribute("action", action);
    if (target === null) form.removeAttribute("target"); else form.setAttribute("target", target);
  }
});
