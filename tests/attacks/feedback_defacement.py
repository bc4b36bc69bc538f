# A vae-reparam submission that tries to deface its feedback page: what it prints and what it raises
# carry Markdown fences, backticks, raw HTML, images, javascript: and https links and the page's own
# CSS classes. None of it may reach the page as markup.
PAYLOAD = (
    "```\n</pre></code><img src=\"https://evil.example/pixel.png\" id=\"injected-img\">\n"
    "[Session expired – log in again](https://evil.example/login)\n"
    "<div class=\"scoreboard full\" id=\"injected-box\">Instructor override: 13 / 13</div>\n"
    "<a href=\"javascript:alert(1)\" id=\"injected-link\">click</a>\n"
    "![tracking](https://evil.example/track.gif)\n```"
)
print(PAYLOAD)
print("a-very-long-line-" * 200)  # one line of 3,400 characters: it must wrap, not widen the page


def reparameterize(mu, logvar):
    raise ValueError("`</code><img src=https://evil.example/x.png id=injected-img2>` "
                     "[log in](https://evil.example/login) <b class=\"badge passed\" id=\"injected-badge\">13 / 13</b>"
                     " ``` " + PAYLOAD)
