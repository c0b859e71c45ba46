// Draws the dashboard's charts from the figures the page carries (#chart-data), and keeps
// the at-risk countdowns current.
(function () {
  "use strict";
  const BRAND = "#075e54";
  const ALERT = "#b3261e";

  function draw(canvas, type, labels, values, title, colour) {
    return new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: [{ label: title, data: values, backgroundColor: colour, borderColor: colour, spanGaps: true, tension: 0 }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { display: false }, title: { display: true, text: title } }, scales: { y: { beginAtZero: true } } },
    });
  }

  function charts() {
    const data = JSON.parse(document.getElementById("chart-data").textContent);
    document.querySelectorAll("canvas[data-weekly]").forEach(function (canvas) {
      const name = canvas.dataset.weekly;
      draw(canvas, "line", data.weekly.labels, data.weekly.series[name], data.titles[name] + " per week", BRAND);
    });
    const partner = document.querySelector('canvas[data-chart="per_partner"]');
    draw(partner, "bar", data.per_partner.labels, data.per_partner.values, data.per_partner.title + " per partner", BRAND);
    const breaches = document.querySelector('canvas[data-chart="breaches_by"]');
    draw(breaches, "bar", data.breaches_by.labels, data.breaches_by.values, "Breaches by who let them run out", ALERT);
  }

  function countdowns() {
    const now = Date.now();
    document.querySelectorAll("time.countdown").forEach(function (time) {
      const minutes = Math.round((Date.parse(time.getAttribute("datetime")) - now) / 60000);
      time.textContent = minutes >= 0 ? "in " + minutes + " min" : minutes * -1 + " min late";
      time.classList.toggle("late", minutes < 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.Chart) { charts(); }
    countdowns();
    window.setInterval(countdowns, 30000);
  });
})();
