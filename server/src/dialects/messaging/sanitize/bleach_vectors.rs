//! The sanitiser against bleach: each input with the output of
//! `bleach.clean(input, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRS, strip=True)` (bleach 6.4.0,
//! the original's allow-lists and bleach's default protocols). The first rows are the
//! original's own `html_payload` vectors; then script and other raw-text elements, `on*`
//! attributes, `javascript:` and other schemes (entity-written too), nested, unclosed and
//! malformed tags, entities, comments, and allowed tags and attributes that must stay.

const BLEACH: &[(&str, &str)] = &[
    ("<script>alert('xss')</script>", "alert('xss')"),
    (
        "<p>Hello<script>alert(1)</script></p>",
        "<p>Helloalert(1)</p>",
    ),
    ("<SCRIPT SRC=//evil/x.js></SCRIPT>", ""),
    ("<style>p{color:red}</style>text", "p{color:red}text"),
    ("<iframe src=\"https://evil.com\"></iframe>", ""),
    ("<img src=\"x\" onerror=\"alert(1)\">", ""),
    ("<svg onload=\"alert(1)\"></svg>", ""),
    ("<object data=\"x\"></object><embed src=\"y\">", ""),
    ("<textarea><b>x</b></textarea>", "<b>x</b>"),
    ("<noscript><p>x</p></noscript>", "<p>x</p>"),
    ("<math><mi>x</mi></math>", "x"),
    ("<form action=\"x\"><input value=\"y\"></form>", ""),
    ("<p onclick=\"alert(1)\">Click me</p>", "<p>Click me</p>"),
    ("<b onmouseover=alert(1)>hover</b>", "<b>hover</b>"),
    (
        "<a href=\"https://example.com\" onclick=\"alert(1)\" class=\"x\">ok</a>",
        "<a href=\"https://example.com\" class=\"x\">ok</a>",
    ),
    (
        "<span ONCLICK=\"x\" id=\"s\">s</span>",
        "<span id=\"s\">s</span>",
    ),
    ("<a href=\"javascript:alert(1)\">link</a>", "<a>link</a>"),
    ("<a href=\"JaVaScRiPt:alert(1)\">link</a>", "<a>link</a>"),
    ("<a href=\"  javascript:alert(1)\">link</a>", "<a>link</a>"),
    ("<a href=\"java&#x09;script:alert(1)\">x</a>", "<a>x</a>"),
    ("<a href=\"&#106;avascript:alert(1)\">x</a>", "<a>x</a>"),
    (
        "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">x</a>",
        "<a>x</a>",
    ),
    ("<a href=\"vbscript:msgbox(1)\">x</a>", "<a>x</a>"),
    (
        "<a href=\"mailto:a@b.c\">mail</a>",
        "<a href=\"mailto:a@b.c\">mail</a>",
    ),
    (
        "<a href=\"http://example.com/?a=1&b=2\">q</a>",
        "<a href=\"http://example.com/?a=1&amp;b=2\">q</a>",
    ),
    (
        "<a href=\"/relative/path\">rel</a>",
        "<a href=\"/relative/path\">rel</a>",
    ),
    ("<a href=\"#frag\">frag</a>", "<a href=\"#frag\">frag</a>"),
    ("<a href=\"ftp://example.com\">ftp</a>", "<a>ftp</a>"),
    (
        "<a href=\"https://example.com\" target=\"_blank\">go</a>",
        "<a href=\"https://example.com\" target=\"_blank\">go</a>",
    ),
    (
        "<a href=\"https://example.com\" title=\"t\" rel=\"nofollow\">go</a>",
        "<a href=\"https://example.com\" title=\"t\">go</a>",
    ),
    (
        "<p style=\"background:url(javascript:alert(1))\">Test</p>",
        "<p>Test</p>",
    ),
    (
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "ipt&gt;alert(1)ipt&gt;",
    ),
    (
        "<ul><li>Item<script>alert(1)</script></li></ul>",
        "<ul><li>Itemalert(1)</li></ul>",
    ),
    (
        "<p onclick=\"alert(1)\"><a href=\"javascript:alert(2)\">x</a><script>alert(3)</script></p>",
        "<p><a>x</a>alert(3)</p>",
    ),
    ("<b>bold", "<b>bold</b>"),
    ("<b><i>both</b></i>", "<b><i>both</i></b>"),
    ("<p>one<p>two", "<p>one</p><p>two</p>"),
    ("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"),
    ("</b>stray close", "stray close"),
    ("<div><p>in div</p></div>", "<p>in div</p>"),
    ("<b <i>x</i>", "<b>x</b>"),
    ("a < b > c", "a &lt; b &gt; c"),
    ("<<b>x</b>", "&lt;<b>x</b>"),
    ("<br/>", "<br>"),
    ("line<br>break", "line<br>break"),
    (
        "Hello<br><script>alert(1)</script>World",
        "Hello<br>alert(1)World",
    ),
    (
        "<p id=\"test\" class=\"safe\">hello</p>",
        "<p id=\"test\" class=\"safe\">hello</p>",
    ),
    ("<p data-test=\"x\" aria-label=\"y\">hi</p>", "<p>hi</p>"),
    (
        "<em class=\"a b\">e</em><strong>s</strong>",
        "<em class=\"a b\">e</em><strong>s</strong>",
    ),
    ("<ol><li>1</li></ol>", "<ol><li>1</li></ol>"),
    ("<table><tr><td>cell</td></tr></table>", "cell"),
    (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ),
    ("Tom &amp; Jerry", "Tom &amp; Jerry"),
    ("Tom & Jerry", "Tom &amp; Jerry"),
    ("&copy; 2024 &nbsp; &eacute;", "&copy; 2024 &nbsp; &eacute;"),
    ("&#60;b&#62;", "&#60;b&#62;"),
    ("&bogus; &amp", "&amp;bogus; &amp;amp"),
    (
        "\"quotes\" and 'apostrophes'",
        "\"quotes\" and 'apostrophes'",
    ),
    (
        "<a title=\"a&quot;b\" href=\"https://x\">q</a>",
        "<a title=\"a&quot;b\" href=\"https://x\">q</a>",
    ),
    ("<!--<script>alert(1)</script>-->", ""),
    ("before<!-- hidden -->after", "beforeafter"),
    ("<!-- unclosed comment", ""),
    ("<p><!-- c --></p>", "<p></p>"),
    ("<![CDATA[x]]>", ""),
    ("plain text", "plain text"),
    ("emoji 👍 and ünïcödé", "emoji 👍 and ünïcödé"),
    ("  spaced  ", "  spaced  "),
    ("multi\nline", "multi\nline"),
    ("<textarea><script>alert(1)</script></textarea>", "alert(1)"),
    ("<noscript><img src=x onerror=alert(1)></noscript>", ""),
    ("<textarea><i onclick=x>a</i></textarea>", "<i>a</i>"),
    ("<title><b>x</b></title>", "<b>x</b>"),
    ("<xmp><b>x</b></xmp>", "<b>x</b>"),
    ("<math><mi>x</mi><mo>+</mo></math>", "x+"),
    ("<svg><text>hi</text></svg>", "hi"),
    ("&copy;&#169;&#xa9;", "&copy;&#169;&#xa9;"),
    ("&lt;&gt;&quot;&#39;", "&lt;&gt;&quot;&#39;"),
    ("&AMP;", "&AMP;"),
    ("&notit;", "&amp;notit;"),
    ("&amp &lt", "&amp;amp &amp;lt"),
    ("a&b", "a&amp;b"),
    ("<p title=\"&copy;\">x</p>", "<p>x</p>"),
    (
        "<a href=\"https://x/?a&amp;b\">x</a>",
        "<a href=\"https://x/?a&amp;b\">x</a>",
    ),
    ("<script><b>x</b></script>", "<b>x</b>"),
    ("<style><i>y</i></style>", "<i>y</i>"),
    ("<script>if (a<b) x()</script>", "if (a"),
    ("<textarea>a<b</textarea>", "a"),
    ("<plaintext><b>x</b>", "<b>x</b>"),
    ("<iframe><b>x</b></iframe>", "<b>x</b>"),
    ("<noembed><b>x</b></noembed>", "<b>x</b>"),
    ("<table><b>x</b><tr><td>y</td></tr></table>", "<b>x</b>y"),
    ("<select><option>o</option></select>", "o"),
    ("<template><b>t</b></template>", "<b>t</b>"),
    ("<p>a<div>b</div>c</p>", "<p>a\nbc</p>"),
    ("<li>loose</li>", "<li>loose</li>"),
    (
        "<a href=x>a<a href=y>b</a>",
        "<a href=\"x\">a</a><a href=\"y\">b</a>",
    ),
    (
        "&cop; &xyz; &#; &#x; &#12a; &#65;",
        "&cop; &amp;xyz; &#; &#x; &#12;; &#65;",
    ),
    ("a <b", "a &lt;b"),
    ("x <notatag y", "x &lt;notatag y"),
    ("<!DOCTYPE html><b>x</b>", "<b>x</b>"),
    ("a\u{1}b\u{0}c", "a?bc"),
    (
        "<a href=\"localhost:8000\">l</a>",
        "<a href=\"localhost:8000\">l</a>",
    ),
    ("<a href=\"HTTP://X\">u</a>", "<a href=\"HTTP://X\">u</a>"),
    (
        "<a href=\"h&#116;tp://x\">e</a>",
        "<a href=\"h&#116;tp://x\">e</a>",
    ),
    ("<a href=\"\">empty</a>", "<a href=\"\">empty</a>"),
    ("<a href>bare</a>", "<a href=\"\">bare</a>"),
    ("<b id=x id=y>d</b>", "<b id=\"x\">d</b>"),
    ("<p class=a CLASS=b>c</p>", "<p class=\"a\">c</p>"),
    (
        "<a href=\"https://x\"\" title=t>q</a>",
        "<a href=\"https://x\" title=\"t\">q</a>",
    ),
    ("\u{a0}nbsp", "\u{a0}nbsp"),
    ("<span>&nbsp;</span>", "<span>&nbsp;</span>"),
    ("<b>x</b >", "<b>x</b>"),
    ("<p>x</p\n>", "<p>x</p>"),
    ("<li>a</li><p>b</p>", "<li>a</li><p>b</p>"),
    ("<a href=\"java\nscript:x\">n</a>", "<a>n</a>"),
    (
        "<a href=\"javascript&colon;alert(1)\">c</a>",
        "<a href=\"javascript&amp;colon;alert(1)\">c</a>",
    ),
    (
        "<a title=\"&hellip;&copy;&amp;x;&#;\">t</a>",
        "<a title=\"&amp;hellip;&copy;&amp;x;&amp;#;\">t</a>",
    ),
    ("x &hellip; y", "x &hellip; y"),
    (
        "<a href=\"j&Tab;avascript:x\">t</a>",
        "<a href=\"j&amp;Tab;avascript:x\">t</a>",
    ),
    ("<a href=\"1abc:x\">s</a>", "<a>s</a>"),
    ("<a href=\"mailto:\">m</a>", "<a href=\"mailto:\">m</a>"),
    ("<b/>x", "<b>x</b>"),
    ("<br></br>", "<br><br>"),
    (
        "<a href=x target=_top title=\"a>b\">z</a>",
        "<a href=\"x\" target=\"_top\" title=\"a>b\">z</a>",
    ),
    ("Hello<div>x</div>y", "Helloxy"),
    ("<h1>T</h1><p>b</p>", "T<p>b</p>"),
    ("<hr>after", "after"),
    ("x<hr>y", "xy"),
    ("<pre>a</pre>", "a"),
    ("a <b c", "a &lt;b c"),
    ("a <b c=", "a "),
    ("a <b c=\"d", "a "),
    ("a <b c=\"d\"", "a "),
    ("a <b ", "a "),
    ("</b", "&lt;/b"),
    ("a </x", "a &lt;/x"),
    ("<!-- c <b", ""),
    ("x <3 y", "x &lt;3 y"),
    ("5 > 3 && 2 < 4", "5 &gt; 3 &amp;&amp; 2 &lt; 4"),
    (
        "<a href=\"https://例え.jp\">idn</a>",
        "<a href=\"https://例え.jp\">idn</a>",
    ),
    ("<a href=\"&#x6A;avascript:x\">h</a>", "<a>h</a>"),
    ("<a href=\"jav&#x0A;ascript:x\">nl</a>", "<a>nl</a>"),
    (
        "<a href=\"#x\" target=\"_self\">a</a>",
        "<a href=\"#x\" target=\"_self\">a</a>",
    ),
    ("<a title='a\"b'>q</a>", "<a title='a\"b'>q</a>"),
    (
        "<A HREF=\"https://X\">up</A>",
        "<a href=\"https://X\">up</a>",
    ),
    ("<I>i</I><B>b</B>", "<i>i</i><b>b</b>"),
    (
        "<span class=\"x\" style=\"color:red\" id=\"y\">s</span>",
        "<span class=\"x\" id=\"y\">s</span>",
    ),
    ("<p>\u{2028}\u{ad}</p>", "<p>\u{2028}\u{ad}</p>"),
];

#[test]
fn every_vector_sanitises_exactly_as_bleach_does() {
    let wrong: Vec<String> = BLEACH
        .iter()
        .filter_map(|(input, bleach)| {
            let chorus = super::clean(input);
            (chorus != *bleach)
                .then(|| format!("{input:?}\n  bleach {bleach:?}\n  chorus {chorus:?}"))
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        BLEACH.len(),
        wrong.join("\n")
    );
}

#[test]
fn no_output_carries_a_dangerous_scheme_or_handler() {
    for (input, _) in BLEACH {
        let out = super::clean(input).to_ascii_lowercase();
        for bad in [
            "javascript:",
            "vbscript:",
            "data:",
            "onclick",
            "onerror",
            "onload",
            "<script",
            "<iframe",
            "<img",
            "<svg",
        ] {
            assert!(!out.contains(bad), "{input:?} → {out:?} contains {bad}");
        }
    }
}
