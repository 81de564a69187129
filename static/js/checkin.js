/* Progressive: only the chosen province's cities; the country only when abroad (and then no
   province or city); the temperature only with a fever. Without JavaScript all is shown. */
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var p = $('province'), c = $('city'), abroad = $('abroad'), t = $('temperature');
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
  function show(id, on) { var f = $(id); if (f && !f.querySelector('.ck-error')) f.hidden = !on; }
  function place() {
    show('field-country', abroad.checked);
    show('field-province', !abroad.checked); show('field-city', !abroad.checked);
  }
  function health() {
    var fever = document.querySelector('input[name=health][value=fever]');
    show('field-temperature', (fever && fever.checked) || (t && t.value !== ''));
  }
  p.addEventListener('change', filter); filter();
  abroad.addEventListener('change', place); place();
  var radios = document.querySelectorAll('input[name=health]');
  for (var k = 0; k < radios.length; k++) radios[k].addEventListener('change', health);
  health();
})();
