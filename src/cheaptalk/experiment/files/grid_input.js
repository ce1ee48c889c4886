// Browser-side check of grid inputs (the server checks again): a value must lie between
// min and max and on the step grid; the message appears before the form is sent.
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('input.ct-grid').forEach(function (input) {
    function check() {
      var v = Number(input.value), lo = Number(input.min), hi = Number(input.max),
          step = Number(input.step), k = (v - lo) / step;
      var ok = input.value !== '' && isFinite(v) && v >= lo - 1e-9 && v <= hi + 1e-9 &&
               Math.abs(k - Math.round(k)) < 1e-6;
      input.setCustomValidity(ok ? '' : 'Enter a value from ' + lo + ' to ' + hi +
                              ' in steps of ' + step + '.');
    }
    input.addEventListener('input', check);
    check();
  });
});
