// The inbox's behaviour, kept out of the page so that the Content Security Policy can refuse
// inline scripts: keyboard moves, the command box's autocomplete, SLA countdowns.
(() => {
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const rows = () => Array.from(document.querySelectorAll("a[data-row]"));

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const focused = all.indexOf(document.activeElement);
    const current = all.findIndex((row) => row.classList.contains("current"));
    const from = focused >= 0 ? focused : current;
    const next = all[Math.min(all.length - 1, Math.max(0, from + step))];
    if (focused < 0 && current >= 0 && next !== all[current]) {
      window.location.assign(next.href); // a thread is open: open the next one
    } else {
      next.focus();
    }
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "Escape" && typing(document.activeElement)) {
      document.activeElement.blur();
      return;
    }
    if (typing(event.target)) return;
    const reply = document.getElementById("reply-text");
    const command = document.getElementById("command-text");
    if (event.key === "j") move(1);
    else if (event.key === "k") move(-1);
    else if (event.key === "r" && reply) reply.focus();
    else if (event.key === "/" && command) {
      command.focus();
      if (!command.value) {
        command.value = "/";
        command.dispatchEvent(new Event("input", { bubbles: true }));
      }
    } else return;
    event.preventDefault();
  });

  // The command box: pick a suggestion with a click, or with the arrows and Enter.
  function options() {
    return Array.from(document.querySelectorAll("#command-options .option"));
  }
  function pick(option) {
    const box = document.getElementById("command-text");
    box.value = option.dataset.fill;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    document.getElementById("command-options").innerHTML = "";
    box.setAttribute("aria-expanded", "false");
  }
  document.addEventListener("click", (event) => {
    const option = event.target.closest("#command-options .option");
    if (option) pick(option);
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.id !== "command-text") return;
    const all = options();
    if (!all.length) return;
    const at = all.findIndex((o) => o.getAttribute("aria-selected") === "true");
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const next = (at + (event.key === "ArrowDown" ? 1 : all.length - 1)) % all.length;
      all.forEach((o, i) => o.setAttribute("aria-selected", String(i === next)));
      event.preventDefault();
    } else if (event.key === "Enter" && at >= 0) {
      pick(all[at]);
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.target.id === "command-options") {
      const box = document.getElementById("command-text");
      if (box) box.setAttribute("aria-expanded", String(options().length > 0));
    }
  });

  // Countdowns to each SLA due time, in the list and beside a thread.
  function words(seconds) {
    const minutes = Math.round(Math.abs(seconds) / 60);
    if (minutes < 60) return `${minutes} min`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")}`;
    return `${Math.round(hours / 24)} days`;
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach((el) => {
      const left = (Date.parse(el.dataset.due) - now) / 1000;
      const name = el.dataset.clock ? `${el.dataset.clock.replace(/_/g, " ")} ` : "";
      el.textContent = left >= 0 ? `${name}due in ${words(left)}` : `${name}late by ${words(left)}`;
      el.classList.toggle("late", left < 0);
      el.classList.toggle("soon", left >= 0 && left < 900);
    });
  }
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSettle", tick);

  // Keep the newest message in view when the transcript grows.
  function toBottom() {
    const list = document.getElementById("transcript");
    if (list) list.scrollTop = list.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", toBottom);
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "transcript") toBottom();
  });
})();
