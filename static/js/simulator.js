// The phone simulator's behaviour, kept out of the page so that the Content Security Policy
// can refuse inline scripts.
document.addEventListener("htmx:beforeRequest", (event) => {
  if (event.target.matches("form.compose")) {
    document.getElementById("send-error").innerHTML = "";
  }
});
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.target.matches("form.compose") && event.detail.successful) {
    event.target.elements.text.value = "";
  }
});
document.addEventListener("click", (event) => {
  const reply = event.target.closest("button.reply-here");
  if (reply) {
    document.getElementById("id_number").value = reply.dataset.number;
    document.getElementById("id_text").focus();
  }
});
