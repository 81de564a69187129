/* Progressive: only the chosen province's cities. Without JavaScript every city is listed. */
(function () {
  var p = document.getElementById('province'), c = document.getElementById('city');
  if (!p || !c) return;
  function filter() {
    var groups = c.getElementsByTagName('optgroup'), keep = false;
    for (var i = 0; i < groups.length; i++) {
      var on = !p.value || groups[i].getAttribute('data-province') === p.value;
      groups[i].hidden = !on; groups[i].disabled = !on;
      if (on && c.selectedOptions[0] && c.selectedOptions[0].parentNode === groups[i]) keep = true;
    }
    if (!keep) c.value = '';
    if (p.value && groups.length) {
      for (var j = 0; j < groups.length; j++) {
        if (!groups[j].disabled && groups[j].children.length === 1) { groups[j].children[0].selected = true; }
      }
    }
  }
  p.addEventListener('change', filter); filter();
})();
