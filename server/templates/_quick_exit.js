(function(){function go(e){e.preventDefault();location.replace("/exit")}
document.querySelectorAll("a.exit").forEach(function(a){a.addEventListener("click",go)})})();
