"""Request examples shown in the API explorer (/docs), each one runnable with "Try it out"."""

# A 96×96 JPEG of NASA's public-domain astronaut portrait (as bundled with scikit-image).
PORTRAIT_JPEG_BASE64 = (
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0"
    "KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7"
    "Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCABgAGADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAA"
    "AAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAk"
    "M2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKT"
    "lJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QA"
    "HwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdh"
    "cRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
    "anN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk"
    "5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDhptctrrxhLqmoWKmOdSWjjY4Hy4GB+XHSvU9Inj1HR7S+j+7N"
    "EGI7g9CPzryqb+w5/E++YSQaZIrhQow0YxwOp549812/w9vkn0e6so2BS1uG8sjP3G5HXn1rWqraopHV7N/yirUU"
    "JVR3A61TiPJIzxVLXr+e1sFETFDM/llx/Dwa5XK2rKSJtU8Q2mnXUNgv7y5mBZYweAB6mlOrSWtqLmTyd7HiJvl/"
    "XPNctaw3N3b+fBE0zwOYTKI9+e5GfSrs13Ha26m/jmi2g5/dkD9eK55VZX0NVDQ6Sw1u21Nike6KYdYn6/h61fCk"
    "8/qa8fh1iaHUWvYJ1CxzCVMDHAPP5jjFeyh4nVZIzw4DD6Gtqc3JakNWHIFlQKxzXAeObae5nnMIBgtIhuO4AgnB"
    "PHXuK7iIgzBQ3GcV534wvrOXxBqcMEyuyvsbBIIIAyMd6ivrAqHxG34euDqfh60upeZGQq5PdlOCf0pt/a7AWHFX"
    "dBtI7Xwxo8cfSWGSRs+pbNSXcO/INbxV0mZN6njGswJHezQwuHSOcqjBtwI7HI68V6r4X0O10bTIxbuJXnUNLMP4"
    "+OMe3pXE+I/Clx4f8uSVxL5qjeQOEfuv/wBetjwRr5jC6Xcv8p5gY9j3X/Cta1XmlZbHUsO3S50zvUAU4A61n+I9"
    "HudY0h4bN9lzGwkjycBiM8Z981siHpgVzuvfEHR/DdybVke7uVHzRxdF+prLlurM5r2J/DGjXVr4diVrk2U6uWmX"
    "YDkk9Oen4VqX7Xl84tY7pUIjDYkTcJOeeKzfDOvw+LLKS9S2a0bztiKWDcgD+YNWtRjgtL8XTholRCMDGXOOB7Vy"
    "tW0OqNmrnm8/h+a58YvptkgLOiF/LBCR8/MT6DGf0r1hYniVUX7iAKo9ABgUuk6ellZLuiUTyjdM/diecZ9s1d2g"
    "HFbRjZGDd2VI490q44bIwa89+KFrJBqtjcymMNsaE7FK7wSWBwenfjNenps+0RgD+IV5t8Zyyz2BUZwwPH41bV4t"
    "EXtJM3/C8wn8O6IG6rbOp/A1fuoxg1i+Bn8zSNMX0gk/nXRXEeQT6U4vQT3M7xFZxai89rOuUljH4H1H0ryWa2n0"
    "28lt3O2aBzhh6g5BFd54d8RnV447e6b/AEuFNpY/8tF9fr60zVvD0WsXplEnlSRyFXYDO9D/AFrKcly8x6eG5qVX"
    "2cjeuvEMUHhK31MSBGuUUL65xlgPyNeda9oXk6Jcatbbria7mZppsZ8qIngD3OevoMfXsrnTbYaKunQqRHF9zcdx"
    "DA57+/Nc3a6x/Zd1JazEpbSnKruyhBJymfTrwe36KlXVS6MMRhHSXMtjmfD3jLU/DlrNZWywy28zB2jmQnDeoIII"
    "NWb3x9eXKN/oqCXBAkaZ3C/QE8fnVaTwrqd5fXUunwG7t0y5kjBOxfcdRWLLp94is727oozyy4zj0zW3JF6s4+Zr"
    "Q9b+HnxCl1dk0jWXH2nb+5uDx5nsff3r0Z4lC5ycivB9D0URwWlz5pRh+9ViRwcZIGO2P517FoWtx6pZwhiVnMY3"
    "bv4vcU20nqVGMmm10NO2hLTb3YKqnqe59KxPEdhYX/iG0S/t4541jyBIMgHPWr2rXkWl2kl67uPL5Vd52lu3HSvP"
    "PEnjWFFtUUXAuYP3Nx8uGwe4LDBHQH61WysQdPpelN4d1KPT0y1uscnkSeq5zg+4q5PctGxzzms1dSmOqxWbySOk"
    "akhmkHJ2jPyhR6+tPu5j2Jx3qHvoNHl1vcz2N7bT25xKjZA9fb8a9DFzHKxDgKW5JBOAazfEHheO08VwXUaAWMjm"
    "RxjiMgZI+hOKvK1xIZHEanLZUEY2Dt+n868/Etq0T6Wg4VP3iLEzFShb+McjPXHT8aytT023v4yrweYHXhVIBB9i"
    "au3V2PsErOipLEu7HTP0+tPWMSRH2Y4+lcibTujosmrSR53cabq2g3LPA8yoOki5IA/DkfqKvW3i/VVgEM8wlVQV"
    "w4VgF78MK624hdkYDJcA7T6+x96qTPcuEs4yF89shVUElsYz7cHFdtLFNuzPLr4GMVzRZyCXOoaqQkEIghXKhicc"
    "dwoH64rtrJ57PS1G5ldVUBu47A1DLbLEFighaPbkShkIZMHG0jsT0qeZz9guM9Vi/XNYVqspvU68Ph4U46a3NbxZ"
    "rMVpoFrqc8YnWGZd6FgAWwRyO/POK818QeKV1RL4yYeS6CbGDbtgDZx/s9B064rV8dXv2jwnZqGI3XQbHY/IR/n6"
    "155XpUnzQUmeDiI+zqygjtm8cWq6il8End0THl7FVC2Pvdcg1DJ8R9SkJzaW2O33v8a4+itbHPc+kNRZGnUMcAjI"
    "9+axJWZZX2gEMSRnqKyrHxOL60jku1kaWBRHKUXPfhse/T61ckuZMFobVmyOS7gfyzXl4mfNM+lwlJ04WZQv2E1v"
    "IDjcBwD/ACqQzvMWBuI7eFW2by/Cn1IHPXpyPxrL1W4mtz5wjKKpUEE7hkniteyu7fTrkzyWscylGBWTgN3HzfXg"
    "g8EVtgFDnfP8h411PZ+58ySdBYwW8pvI7pJsZaNsgZ6EZOfYg1L4eMDa3qDzxiVLe3Z9p/2cH+dY95dS6hGjyR26"
    "GJiVjtItkajr/wACJPftzV/RZIrG11OSdwZ5bc+bt5I3MBtAq8WqarLk362Oel7SWHaqGl44WC28TJcEgC5iincG"
    "Vow+NyHleQcY/KuR8UeKbaBJVtzMzXKYZDcB1B45AH3enrzmug8dXam/sbgybRHprZPXHII/KvItSuWuroucj0BO"
    "SB7+prWEnK8GtDz5/u4xnF+8db4Y8TabLfRjxA9vDaWsf7vNoLh2bPQBgVHuSK627+KHhNbuO1j0SC/sDHiRp7SN"
    "HByegAxjGOwrxwxSLEspjYRsSFYg4J+tNVSzBVGSegrVRSVkccpym7yep7Lqvw98LeNNJfVfBcq2t0oy1qThCfQg"
    "/cPoR8teP3VrPZXUtrcxNFNCxSSNxgqw6g1s+HPEGqeFNTjurZ2jAPzIejDuCPSum+KaWWsQaV4u09Ag1BGhulH8"
    "MqY6++Dj6AU0SUtAuTBdTyuwEZX589NvrXW6bqSXkAltrZ/K6Iz9W+i9h7nFctrmjNpWovbo+bOb5Vf06HafcVo6"
    "XfR2kBilnWFd+1GY428dB+FeXXjaXmfU0pqcbp6Gne6d9uYicxq7/wAIXLD8ahme6jkisLGxN1Iy/K+GIAHXgcmr"
    "n9p2cG2BJXuriRS4jzglQMliTgKoHc1z1p44vB4ignsZXFuhAmMSBflP3gCeSMd+PoKVGhOo7paEV8VGkrX1NGXS"
    "7hlZr24lO0HMSDyxn0x1/OtXw3oFvf3UunSARRzRhmWMZPyndyTyc9Pxq/rOofblsZZo1W5kt2ecK4f5MjZkjgkj"
    "JrjH1BrcQCL7TZao107NcxycGN+FQ+nAGapQ5alm9EZSrudFSSs2J8RNQW4isJ4l2R3FoML7eYQR+grz2V1dgVUq"
    "cfMc5yc9favRviXbi30zSYkiAeNJASOQAzbuPTknjtXm3evRglY8Ko27XPSvEvijQD8JdK8O6RciW5DRm5QxlShA"
    "LOeR3Y9q4rw2sLazD5+NoPQ1lVJBM1vMsqgEr0BqzI6/xwlvHJF5IUDHas2C+e88EXel7ZXaC8S7TCEqqhGVskdO"
    "q1lX+qXGolTMEG0YARcVq6A7W8BilkeGG4dTOBwXhOVbHpjJpDP/2Q=="
)

SEED_REQUEST_EXAMPLES = {
    "img": {
        "summary": "Alpha matte of a base64 image",
        "description": "`img` holds the base64 of a JPEG, PNG or BMP file. The result is a "
        "grayscale PNG matte (255 = person).",
        "value": {"img": PORTRAIT_JPEG_BASE64},
    },
    "foreground": {
        "summary": "Cut-out (transparent background) of a base64 image",
        "description": "`type: foreground` returns an RGBA PNG: the photo with the matte as alpha.",
        "value": {"img": PORTRAIT_JPEG_BASE64, "type": "foreground"},
    },
    "mask": {
        "summary": "Binary mask",
        "description": "`type: mask` returns a grayscale PNG with only 0 and 255.",
        "value": {"img": PORTRAIT_JPEG_BASE64, "type": "mask"},
    },
    "background": {
        "summary": "Replace the background with a colour",
        "description": "`type: background` with `bg_color` (hex, rgba() or a name), or a "
        "replacement image as `bg_img` (base64) or `bg_url`.",
        "value": {"img": PORTRAIT_JPEG_BASE64, "type": "background", "bg_color": "#2e86de"},
    },
    "blur": {
        "summary": "Portrait mode: blur the background",
        "description": "`blur_strength` from 0 to 1; JPEG output.",
        "value": {
            "img": PORTRAIT_JPEG_BASE64,
            "type": "blur",
            "blur_strength": 0.7,
            "format": "jpeg",
        },
    },
    "crop": {
        "summary": "Cut-out cropped to the person",
        "description": "`crop_margin` in px or % of the person's size; WebP output.",
        "value": {
            "img": PORTRAIT_JPEG_BASE64,
            "type": "crop",
            "crop_margin": "5%",
            "format": "webp",
        },
    },
    "id_photo": {
        "summary": "Passport photo on blue",
        "description": "`id_preset`: 1inch, 2inch, passport (35×45 mm at 300 dpi) or us (2×2 "
        "in); `bg_color`: white, blue, red or hex. Needs exactly one face.",
        "value": {
            "img": PORTRAIT_JPEG_BASE64,
            "type": "id_photo",
            "id_preset": "passport",
            "bg_color": "blue",
            "format": "jpeg",
        },
    },
    "url": {
        "summary": "Image from an http(s) URL",
        "description": "The server downloads the image (public addresses only by default).",
        "value": {"url": "https://example.com/portrait.jpg"},
    },
    "s3": {
        "summary": "Image from S3",
        "description": "Read with the server's AWS credentials (or an S3-compatible store).",
        "value": {"url": "s3://my-bucket/photos/portrait.jpg", "type": "foreground"},
    },
}
