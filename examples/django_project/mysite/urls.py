from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": f"Hello, {request.GET.get('name', 'world')}!"})


@csrf_exempt
def echo(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.body, content_type=request.content_type)


urlpatterns = [path("", hello), path("echo", echo)]
