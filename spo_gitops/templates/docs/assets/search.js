// Portfolio board filter: hides the cards whose text does not contain every word typed.
(function () {
  "use strict";
  var input = document.getElementById("search");
  var count = document.getElementById("count");
  if (!input) { return; }
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var text = card.getAttribute("data-search") || "";
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + " of " + cards.length + " services";
  }
  input.addEventListener("input", apply);
  apply();
}());
